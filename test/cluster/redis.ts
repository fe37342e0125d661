/**
 * Real Redis for tests: Debian's redis-server on free loopback ports, password-protected. One node
 * (startRedis), a Redis Cluster created with `redis-cli --cluster create` (startRedisCluster),
 * with a way to stop and restart one node for failover tests, or a master and replicas watched by
 * Debian's redis-sentinel (startRedisSentinel).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { generatePki } from './certs.ts';
import { freePort, isPortFree, type ManagedProcess, RunDirectory, waitFor } from './processes.ts';

const run = promisify(execFile);

/** Where a Redis node listens. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
}

/** One running redis-server. */
export interface RedisServer extends RedisEndpoint {
  readonly password: string;
  /** caCert is the PEM CA that signed the server's certificate, when started with `tls`. */
  readonly caCert?: string;
  /** client opens a new ioredis connection to this node, authenticated. */
  client(): Redis;
  /** stop ends the server and removes its directory. */
  stop(): Promise<void>;
}

/** A running Redis Cluster. */
export interface RedisCluster {
  readonly password: string;
  /** nodes lists every node, masters and replicas, in the order they were created. */
  readonly nodes: readonly RedisEndpoint[];
  /** roles asks each running node whether it is a master or a replica. */
  roles(): Promise<Map<number, 'master' | 'replica'>>;
  /** stopNode kills one node (by port) as a crash would: no shutdown save. */
  stopNode(port: number): Promise<void>;
  /** startNode starts a stopped node again with its cluster config; it rejoins the cluster. */
  startNode(port: number): Promise<void>;
  /** stop ends every node and removes the cluster's directory. */
  stop(): Promise<void>;
}

/** Options for startRedis. */
export interface RedisOptions {
  /** password is required by the server (`requirepass`). */
  readonly password: string;
  /** timeoutMs bounds the wait for the server to answer PING. @default 15000 */
  readonly timeoutMs?: number;
}

/** Options for startRedis: one node, optionally serving TLS only. */
export interface RedisServerOptions extends RedisOptions {
  /** tls serves TLS only (no plain port), with a fresh test CA's certificate for 127.0.0.1. @default false */
  readonly tls?: boolean;
  /**
   * config are further redis.conf lines, e.g. an ACL `user` line or `rename-command CONFIG ""`
   * (written to the 0600 config file, so a password in them stays off command lines). @default []
   */
  readonly config?: readonly string[];
}

/** Options for startRedisCluster. */
export interface RedisClusterOptions extends RedisOptions {
  /** masters is the number of master nodes (at least 3, as Redis Cluster requires). @default 3 */
  readonly masters?: number;
  /** replicasPerMaster is the number of replicas of each master. @default 1 */
  readonly replicasPerMaster?: number;
  /** nodeTimeoutMs is `cluster-node-timeout`: how soon a silent master is failed over. @default 2000 */
  readonly nodeTimeoutMs?: number;
}

const host = '127.0.0.1';

/** connect opens a one-shot probe connection: no retries, and failures surface as rejections only. */
function connect(port: number, password: string, ca?: string): Redis {
  const client = new Redis({
    host,
    port,
    password,
    ...(ca ? { tls: { ca } } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  return client;
}

async function ping(port: number, password: string, ca?: string): Promise<boolean> {
  const client = connect(port, password, ca);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } finally {
    client.disconnect();
  }
}

function writeConfig(
  dir: string,
  port: number,
  password: string,
  extra: readonly string[],
  tls = false,
): string {
  // The password goes into a config file (mode 0600), never onto a command line.
  const path = join(dir, `redis-${port}.conf`);
  const lines = [
    ...(tls ? ['port 0', `tls-port ${port}`] : [`port ${port}`]),
    `bind ${host}`,
    `dir ${dir}`,
    'daemonize no',
    'save ""',
    'appendonly no',
    'logfile ""',
    `requirepass ${password}`,
    `masterauth ${password}`,
    ...extra,
  ];
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
  return path;
}

/** startRedis starts one password-protected redis-server and waits until it answers PING. */
export async function startRedis(options: RedisServerOptions): Promise<RedisServer> {
  const dir = new RunDirectory('perfpilot-redis');
  try {
    const port = await freePort();
    let caCert: string | undefined;
    const tlsLines: string[] = [];
    if (options.tls) {
      const pki = await generatePki();
      caCert = pki.caCert;
      writeFileSync(join(dir.path, 'tls.crt'), pki.servingCert);
      writeFileSync(join(dir.path, 'tls.key'), pki.servingKey, { mode: 0o600 });
      writeFileSync(join(dir.path, 'ca.crt'), pki.caCert);
      tlsLines.push(
        `tls-cert-file ${join(dir.path, 'tls.crt')}`,
        `tls-key-file ${join(dir.path, 'tls.key')}`,
        `tls-ca-cert-file ${join(dir.path, 'ca.crt')}`,
        'tls-auth-clients no',
      );
    }
    const config = writeConfig(
      dir.path,
      port,
      options.password,
      [...tlsLines, ...(options.config ?? [])],
      options.tls,
    );
    const server = dir.start('redis', 'redis-server', [config]);
    await waitFor(
      `redis-server on ${port}`,
      async () => ((await ping(port, options.password, caCert)) ? true : undefined),
      {
        timeoutMs: options.timeoutMs ?? 15_000,
        process: server,
      },
    );
    return {
      host,
      port,
      password: options.password,
      ...(caCert ? { caCert } : {}),
      client: () =>
        new Redis({ host, port, password: options.password, ...(caCert ? { tls: { ca: caCert } } : {}) }),
      stop: async () => await dir.dispose(),
    };
  } catch (err) {
    await dir.dispose();
    throw err;
  }
}

/**
 * CLUSTER_PORTS is where cluster nodes listen: below Linux's ephemeral range (32768–60999 by
 * default, /proc/sys/net/ipv4/ip_local_port_range) with their bus ports (port + 10000) too. A port
 * from the ephemeral range can be checked free and then taken as the source port of some other
 * test's outgoing connection before redis-server binds it ("Address already in use" on the bus).
 */
const CLUSTER_PORTS = { first: 20_000, last: 22_767 } as const;

/** clusterPort finds a port, and its cluster bus port (port + 10000), free outside the ephemeral range. */
async function clusterPort(taken: Set<number>): Promise<number> {
  const span = CLUSTER_PORTS.last - CLUSTER_PORTS.first + 1;
  for (let attempt = 0; attempt < 10 * span; attempt++) {
    const port = CLUSTER_PORTS.first + Math.floor(Math.random() * span);
    if (!taken.has(port) && (await isPortFree(port)) && (await isPortFree(port + 10_000))) return port;
  }
  throw new Error(`no free Redis Cluster port in ${CLUSTER_PORTS.first}–${CLUSTER_PORTS.last}`);
}

/**
 * startRedisCluster starts masters × (1 + replicasPerMaster) nodes, creates the cluster with
 * `redis-cli --cluster create`, and waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(options: RedisClusterOptions): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  if (masters < 3) throw new Error(`masters is ${masters}; a Redis Cluster needs at least 3`);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { password } = options;
  const dir = new RunDirectory('perfpilot-redis-cluster');
  try {
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await clusterPort(taken);
      taken.add(port);
      ports.push(port);
    }
    const configs = new Map<number, string>();
    const processes = new Map<number, ManagedProcess>();
    const startNode = async (port: number) => {
      const config = configs.get(port);
      if (config === undefined) throw new Error(`no cluster node on port ${port}`);
      const node = dir.start(`redis-${port}`, 'redis-server', [config]);
      processes.set(port, node);
      await waitFor(
        `redis-server on ${port}`,
        async () => ((await ping(port, password)) ? true : undefined),
        {
          timeoutMs,
          process: node,
        },
      );
    };
    const configure = (port: number) => {
      const nodeDir = join(dir.path, String(port));
      mkdirSync(nodeDir);
      configs.set(
        port,
        writeConfig(nodeDir, port, password, [
          'cluster-enabled yes',
          `cluster-config-file nodes-${port}.conf`,
          `cluster-node-timeout ${options.nodeTimeoutMs ?? 2000}`,
        ]),
      );
    };
    for (const port of ports) configure(port);
    // A port checked free can still be bound by someone else before redis-server starts (another
    // test choosing the same port): that node moves to another port, before the cluster exists.
    await Promise.all(
      ports.map(async (_, index) => {
        for (let attempt = 1; ; attempt++) {
          const port = ports[index] as number;
          try {
            await startNode(port);
            return;
          } catch (err) {
            if (attempt >= 5 || !String(err).includes('Address already in use')) throw err;
            const other = await clusterPort(taken);
            taken.add(other);
            configure(other);
            ports[index] = other;
          }
        }
      }),
    );
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `${host}:${p}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { env: { ...process.env, REDISCLI_AUTH: password }, timeout: timeoutMs },
    );
    // Ready means the cluster serves every slot and every replica has finished its first sync
    // (a replica that never synced cannot take over from its master).
    const nodeReady = async (port: number) => {
      const client = connect(port, password);
      try {
        await client.connect();
        const replication = await client.info('replication');
        const synced = /role:master/.test(replication) || /master_link_status:up/.test(replication);
        return synced && /cluster_state:ok/.test(await client.cluster('INFO'));
      } finally {
        client.disconnect();
      }
    };
    await waitFor(
      'cluster_state:ok and synced replicas on every node',
      async () => ((await Promise.all(ports.map(nodeReady))).every(Boolean) ? true : undefined),
      { timeoutMs, intervalMs: 250 },
    );
    return {
      password,
      nodes: ports.map((port) => ({ host, port })),
      roles: async () => {
        const roles = new Map<number, 'master' | 'replica'>();
        for (const port of ports) {
          if (!processes.get(port)?.isRunning()) continue;
          const client = connect(port, password);
          try {
            await client.connect();
            const [role] = (await client.role()) as [string];
            roles.set(port, role === 'master' ? 'master' : 'replica');
          } finally {
            client.disconnect();
          }
        }
        return roles;
      },
      stopNode: async (port) => {
        const node = processes.get(port);
        if (node === undefined) throw new Error(`no cluster node on port ${port}`);
        await node.stop(0);
      },
      startNode,
      stop: async () => await dir.dispose(),
    };
  } catch (err) {
    await dir.dispose();
    throw err;
  }
}

/** Options for startRedisSentinel. */
export interface RedisSentinelOptions extends RedisOptions {
  /** masterName is the name the Sentinels monitor the master under. @default 'mymaster' */
  readonly masterName?: string;
  /** replicas is the number of replicas of the master. @default 1 */
  readonly replicas?: number;
  /** sentinels is the number of Sentinels; a quorum of half of them plus one agrees on a failover. @default 3 */
  readonly sentinels?: number;
  /** sentinelPassword is the Sentinels' own `requirepass`. @default none */
  readonly sentinelPassword?: string;
  /** config are further redis.conf lines of every data node (an ACL user, say). @default [] */
  readonly config?: readonly string[];
}

/** A master and its replicas, watched by Sentinels. */
export interface RedisSentinelDeployment {
  readonly password: string;
  readonly masterName: string;
  /** nodes are the data nodes, the first started as the master. */
  readonly nodes: readonly RedisEndpoint[];
  /** sentinels are the Sentinels' endpoints. */
  readonly sentinels: readonly RedisEndpoint[];
  /** configFileOf is the path of a data node's redis.conf (by port), which CONFIG REWRITE writes. */
  configFileOf(port: number): string;
  /** masterPort asks the first Sentinel which port the master is on now. */
  masterPort(): Promise<number>;
  /**
   * failover runs SENTINEL FAILOVER and waits until every Sentinel names another master and that
   * master has a synced replica again; returns the new master's port.
   */
  failover(): Promise<number>;
  /** stop ends every process and removes the deployment's directory. */
  stop(): Promise<void>;
}

/**
 * startRedisSentinel starts a master, its replicas (`replicaof`) and the Sentinels (`sentinel
 * monitor`, on loopback, each with a config file of its own that it rewrites), and waits until
 * every Sentinel knows every replica and the other Sentinels.
 */
export async function startRedisSentinel(options: RedisSentinelOptions): Promise<RedisSentinelDeployment> {
  const masterName = options.masterName ?? 'mymaster';
  const replicas = options.replicas ?? 1;
  const sentinelCount = options.sentinels ?? 3;
  const quorum = Math.floor(sentinelCount / 2) + 1;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { password } = options;
  const dir = new RunDirectory('perfpilot-redis-sentinel');
  try {
    const ports: number[] = [];
    const configs = new Map<number, string>();
    for (let i = 0; i <= replicas; i++) {
      const port = await freePort();
      const nodeDir = join(dir.path, String(port));
      mkdirSync(nodeDir);
      const master = ports[0];
      configs.set(
        port,
        writeConfig(nodeDir, port, password, [
          ...(master === undefined ? [] : [`replicaof ${host} ${master}`]),
          ...(options.config ?? []),
        ]),
      );
      ports.push(port);
    }
    const master = ports[0] as number;
    for (const port of ports) {
      const node = dir.start(`redis-${port}`, 'redis-server', [configs.get(port) as string]);
      await waitFor(
        `redis-server on ${port}`,
        async () => ((await ping(port, password)) ? true : undefined),
        {
          timeoutMs,
          process: node,
        },
      );
    }
    const sentinelPorts: number[] = [];
    for (let i = 0; i < sentinelCount; i++) {
      const port = await freePort();
      const path = join(dir.path, `sentinel-${port}.conf`);
      // Sentinel rewrites its own file (known replicas and Sentinels, the current epoch).
      writeFileSync(
        path,
        `${[
          `port ${port}`,
          `bind ${host}`,
          `dir ${dir.path}`,
          'daemonize no',
          'logfile ""',
          ...(options.sentinelPassword ? [`requirepass ${options.sentinelPassword}`] : []),
          `sentinel monitor ${masterName} ${host} ${master} ${quorum}`,
          `sentinel auth-pass ${masterName} ${password}`,
          `sentinel down-after-milliseconds ${masterName} 2000`,
          `sentinel failover-timeout ${masterName} 10000`,
        ].join('\n')}\n`,
        { mode: 0o600 },
      );
      const sentinel = dir.start(`sentinel-${port}`, 'redis-sentinel', [path]);
      await waitFor(
        `redis-sentinel on ${port}`,
        async () => ((await ping(port, options.sentinelPassword ?? '')) ? true : undefined),
        { timeoutMs, process: sentinel },
      );
      sentinelPorts.push(port);
    }
    const ask = async <T>(port: number, args: [string, ...string[]]): Promise<T> => {
      const client = connect(port, options.sentinelPassword ?? '');
      try {
        await client.connect();
        return (await client.call(...args)) as T;
      } finally {
        client.disconnect();
      }
    };
    const masterOf = async (port: number) =>
      Number((await ask<[string, string]>(port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName]))[1]);
    /** settled: every Sentinel names `expected` as master and knows its replicas (up) and the other Sentinels. */
    const settled = async (expected: number) => {
      for (const port of sentinelPorts) {
        if ((await masterOf(port)) !== expected) return undefined;
        const known = (await ask<string[][]>(port, ['SENTINEL', 'REPLICAS', masterName])).filter((fields) => {
          const flags = fields[fields.indexOf('flags') + 1] ?? '';
          return !/s_down|o_down|disconnected/.test(flags);
        });
        const others = await ask<unknown[]>(port, ['SENTINEL', 'SENTINELS', masterName]);
        if (known.length < replicas || others.length < sentinelCount - 1) return undefined;
      }
      return true;
    };
    await waitFor(
      'every Sentinel knows the master, its replicas and the other Sentinels',
      () => settled(master),
      {
        timeoutMs,
        intervalMs: 250,
      },
    );
    return {
      password,
      masterName,
      nodes: ports.map((port) => ({ host, port })),
      sentinels: sentinelPorts.map((port) => ({ host, port })),
      configFileOf: (port) => {
        const path = configs.get(port);
        if (path === undefined) throw new Error(`no data node on port ${port}`);
        return path;
      },
      masterPort: async () => await masterOf(sentinelPorts[0] as number),
      failover: async () => {
        const before = await masterOf(sentinelPorts[0] as number);
        await ask(sentinelPorts[0] as number, ['SENTINEL', 'FAILOVER', masterName]);
        const after = await waitFor(
          'the Sentinels name a new master',
          async () => {
            const now = await masterOf(sentinelPorts[0] as number);
            return now !== before ? now : undefined;
          },
          { timeoutMs, intervalMs: 250 },
        );
        await waitFor('every Sentinel agrees on the new master and its replicas', () => settled(after), {
          timeoutMs,
          intervalMs: 250,
        });
        return after;
      },
      stop: async () => await dir.dispose(),
    };
  } catch (err) {
    await dir.dispose();
    throw err;
  }
}
