/**
 * How the soak makes each fault on the real components of the demo's stack, and ends it. Each
 * injection resolves once the fault is over (the component back, or the cut healed) with what it
 * did, in words for the report.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { CoreV1Api } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import type { DemoStack } from '../../demo/src/demo-stack.ts';
import { REDIS_MAXMEMORY_CONFIG_KEY } from '../../operator/src/api/v1alpha1/constants.ts';
import type { SeededRandom } from '../../operator/src/sim/seeded-random.ts';
import { isAlive, type RunDirectory, waitFor } from '../cluster/processes.ts';
import type { FaultType } from './fault-schedule.ts';
import type { LatencyProxy } from './latency-proxy.ts';
import type { OperatorReplicas } from './operator-replicas.ts';

/** The delay the slow API server adds to every chunk, either way. */
export const SLOW_API_SERVER_DELAY_MS = 1500;
/** How often the Redis cut-off resets the operator's connections. */
const CUTOFF_RESET_MS = 100;

/** What a fault needs to reach the components. */
export interface FaultContext {
  readonly stack: DemoStack;
  /** proxy stands between the operator replicas and kube-apiserver. */
  readonly proxy: LatencyProxy;
  readonly replicas: OperatorReplicas;
  /** dir runs the processes the soak starts itself (a restarted Prometheus). */
  readonly dir: RunDirectory;
  readonly random: SeededRandom;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** injectFault makes `type` for `durationMs` and resolves when it is over, with what it did. */
export async function injectFault(type: FaultType, durationMs: number, ctx: FaultContext): Promise<string> {
  switch (type) {
    case 'redis-master-kill':
      return await killRedisMaster(durationMs, ctx);
    case 'apiserver-restart': {
      await ctx.stack.cp.stopApiServer();
      await sleep(durationMs);
      await ctx.stack.cp.startApiServer();
      return `kube-apiserver stopped ${durationMs / 1000} s, started again`;
    }
    case 'leader-kill':
      return await killLeader(durationMs, ctx);
    case 'prometheus-stop':
      return await stopPrometheus(durationMs, ctx);
    case 'scrape-stall': {
      // SIGSTOP: the risk API holds its connections and answers nothing, its /metrics included.
      const pid = ctx.stack.api.pid;
      process.kill(pid, 'SIGSTOP');
      try {
        await sleep(durationMs);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      return `risk API (pid ${pid}) stalled with SIGSTOP for ${durationMs / 1000} s: its scrapes time out`;
    }
    case 'metric-nan':
      return await nanTarget(durationMs, ctx);
    case 'postgres-restart': {
      await ctx.stack.postgres.stopServer();
      await sleep(durationMs);
      await ctx.stack.postgres.startServer();
      return `PostgreSQL stopped (fast shutdown) ${durationMs / 1000} s, started again`;
    }
    case 'redis-cutoff':
      return await cutOperatorFromRedis(durationMs, ctx);
    case 'apiserver-slow': {
      ctx.proxy.delayMs = SLOW_API_SERVER_DELAY_MS;
      await sleep(durationMs);
      ctx.proxy.delayMs = 0;
      return `${SLOW_API_SERVER_DELAY_MS} ms added each way between the operator and kube-apiserver for ${durationMs / 1000} s`;
    }
  }
}

/** redisInfo reads `INFO server` fields of one node. */
async function redisInfo(port: number, password: string, section: string): Promise<Record<string, string>> {
  const client = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    const text = String(await client.info(section));
    return Object.fromEntries(
      text
        .split('\r\n')
        .filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
    );
  } finally {
    client.disconnect();
  }
}

/**
 * killRedisMaster SIGKILLs a master; after `durationMs` it starts again with the maxmemory of the
 * Redis ConfigMap in its configuration, as the toolkit's redis.conf includes maxmemory.conf.
 */
async function killRedisMaster(durationMs: number, ctx: FaultContext): Promise<string> {
  const { redis, cp, namespace } = ctx.stack;
  const masters = [...(await redis.roles())].filter(([, role]) => role === 'master').map(([port]) => port);
  const port = masters[Math.floor(ctx.random.uniform() * masters.length)];
  if (port === undefined) throw new Error('no Redis master answers');
  const info = await redisInfo(port, redis.password, 'server');
  const pid = Number(info.process_id);
  const configFile = info.config_file ?? '';
  process.kill(pid, 'SIGKILL');
  await waitFor(`redis-server ${port} gone`, async () => (isAlive(pid) ? undefined : true), {
    timeoutMs: 10_000,
  });
  await sleep(durationMs);
  // The API server may be away (another fault): the node starts anyway, with what it had.
  const persisted = await waitFor(
    'the Redis ConfigMap',
    async () => {
      const configMaps = await cp.kubeConfig.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace });
      return configMaps.items
        .map((c) => c.data?.[REDIS_MAXMEMORY_CONFIG_KEY])
        .find((text): text is string => text !== undefined);
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  ).catch(() => undefined);
  if (persisted && configFile) {
    writeFileSync(configFile, `${readFileSync(configFile, 'utf8').trimEnd()}\n${persisted.trim()}\n`);
  }
  await redis.startNode(port);
  return `master 127.0.0.1:${port} (pid ${pid}) SIGKILLed, started again after ${durationMs / 1000} s with "${persisted?.trim() ?? 'no maxmemory.conf'}"`;
}

/** killLeader SIGKILLs the replica holding the Lease and waits for another to take it; its replacement starts after `durationMs`. */
async function killLeader(durationMs: number, ctx: FaultContext): Promise<string> {
  const leader = await ctx.replicas.leader();
  if (!leader) throw new Error('no operator replica holds the Lease');
  const killedAt = Date.now();
  ctx.replicas.kill(leader.identity);
  let next: Awaited<ReturnType<OperatorReplicas['leader']>>;
  let tookOver: number;
  try {
    next = await waitFor(
      'another replica holding the Lease',
      async () => {
        const now = await ctx.replicas.leader();
        return now && now.identity !== leader.identity ? now : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    tookOver = Math.round((Date.now() - killedAt) / 100) / 10;
    await sleep(Math.max(0, killedAt + durationMs - Date.now()));
  } finally {
    // Its Deployment starts a new Pod, whatever the Lease did.
    await ctx.replicas.replace(leader.identity);
  }
  return `leader ${leader.identity} (pid ${leader.pid}) SIGKILLed; ${next?.identity} took the Lease after ${tookOver} s`;
}

/** processArgs reads a process's command line. */
const processArgs = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

/** prometheusPid finds the Prometheus serving the stack's URL by its listen address on its command line. */
function prometheusPid(url: string): number {
  const listen = `--web.listen-address=${new URL(url).host}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = processArgs(Number(entry));
      if (args[0]?.endsWith('prometheus') && args.includes(listen)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error(`no prometheus process with ${listen}`);
}

/** stopPrometheus stops Prometheus (SIGTERM, as a Pod's end), and starts it again with the same flags and data. */
async function stopPrometheus(durationMs: number, ctx: FaultContext): Promise<string> {
  const pid = prometheusPid(ctx.stack.prometheus.url);
  const [command, ...args] = processArgs(pid);
  process.kill(pid, 'SIGTERM');
  await waitFor('prometheus stopped', async () => (isAlive(pid) ? undefined : true), { timeoutMs: 30_000 });
  await sleep(durationMs);
  ctx.dir.start('prometheus', command ?? 'prometheus', args);
  await waitFor(
    'prometheus ready again',
    async () =>
      (await fetch(`${ctx.stack.prometheus.url}/-/ready`).catch(() => undefined))?.ok ? true : undefined,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  return `Prometheus (pid ${pid}) stopped ${durationMs / 1000} s, started again on its data`;
}

type PrometheusConfig = {
  scrape_configs: {
    job_name: string;
    static_configs: { targets: string[]; labels?: Record<string, string> }[];
  }[];
};

/** reloadPrometheus edits the running Prometheus's configuration file and reloads it. */
async function reloadPrometheus(url: string, edit: (config: PrometheusConfig) => void): Promise<void> {
  const args = processArgs(prometheusPid(url));
  const path = args.find((a) => a.startsWith('--config.file='))?.slice('--config.file='.length);
  if (!path) throw new Error('prometheus has no --config.file');
  const config = parse(readFileSync(path, 'utf8')) as PrometheusConfig;
  edit(config);
  writeFileSync(path, stringify(config));
  const response = await fetch(`${url}/-/reload`, { method: 'POST' });
  if (!response.ok) throw new Error(`prometheus reload: ${response.status} ${await response.text()}`);
}

/** reloadPrometheusWhenUp retries the edit while Prometheus is stopped (another fault), up to 2 minutes. */
const reloadPrometheusWhenUp = async (url: string, edit: (config: PrometheusConfig) => void) =>
  await waitFor(
    'prometheus reloaded',
    async () =>
      (await reloadPrometheus(url, edit)
        .then(() => true)
        .catch(() => undefined))
        ? true
        : undefined,
    { timeoutMs: 120_000, intervalMs: 500 },
  );

/**
 * nanTarget adds a second target to the risk API's job that exports database_connections_active
 * as NaN: the sum the operator reads is NaN until the target is removed again.
 */
async function nanTarget(durationMs: number, ctx: FaultContext): Promise<string> {
  const { stack } = ctx;
  const server: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(
      '# TYPE database_connections_active gauge\ndatabase_connections_active{pod="nan-exporter"} NaN\n',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const target = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const job = (c: PrometheusConfig) => c.scrape_configs.find((s) => s.job_name === stack.name);
  try {
    await reloadPrometheusWhenUp(stack.prometheus.url, (c) => {
      const j = job(c);
      if (j && !j.static_configs.some((t) => t.targets.includes(target))) {
        j.static_configs.push({ targets: [target], labels: { namespace: stack.namespace } });
      }
    });
    await sleep(durationMs);
  } finally {
    await reloadPrometheusWhenUp(stack.prometheus.url, (c) => {
      const j = job(c);
      if (j) j.static_configs = j.static_configs.filter((s) => !s.targets.includes(target));
    });
    server.close();
  }
  return `a second ${stack.name} target answering database_connections_active NaN for ${durationMs / 1000} s`;
}

/** localPortsOf lists the local TCP ports of a process's sockets (from /proc). */
function localPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const link = (() => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      })();
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode) inodes.add(inode);
    }
  } catch {
    return new Set();
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && inodes.has(fields[9] as string)) {
        ports.add(Number.parseInt((fields[1] as string).split(':')[1] as string, 16));
      }
    }
  }
  return ports;
}

/**
 * cutOperatorFromRedis resets, on every node, each connection that comes from an operator
 * process, every CUTOFF_RESET_MS for `durationMs`: the operator reaches no Redis node while the
 * risk API keeps its connections.
 */
async function cutOperatorFromRedis(durationMs: number, ctx: FaultContext): Promise<string> {
  const { redis } = ctx.stack;
  const clients = redis.nodes.map((n) => {
    const c = new Redis({ host: n.host, port: n.port, password: redis.password, maxRetriesPerRequest: 0 });
    c.on('error', () => {});
    return c;
  });
  let resets = 0;
  const until = Date.now() + durationMs;
  try {
    while (Date.now() < until) {
      const ports = new Set(ctx.replicas.running().flatMap((r) => [...localPortsOf(r.pid)]));
      await Promise.all(
        clients.map(async (c) => {
          try {
            const list = String(await c.client('LIST'));
            for (const line of list.split('\n')) {
              const id = /\bid=(\d+)/.exec(line)?.[1];
              const port = Number(/\baddr=[^ ]*:(\d+)/.exec(line)?.[1]);
              if (id && ports.has(port)) {
                await c.client('KILL', 'ID', id);
                resets++;
              }
            }
          } catch {
            // A node down at this moment (another fault) has no operator connection to cut.
          }
        }),
      );
      await sleep(CUTOFF_RESET_MS);
    }
  } finally {
    for (const c of clients) c.disconnect();
  }
  return `operator's Redis connections reset every ${CUTOFF_RESET_MS} ms for ${durationMs / 1000} s (${resets} resets)`;
}
