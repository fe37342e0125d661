/**
 * The Redis ConfigMap's redis.conf, maxmemory.conf and start.sh, run for real with Debian's
 * redis-server (7.x): the seed's settings take effect, the password comes from the environment,
 * the node announces its stable hostname, and after a reschedule with a new pod IP the script
 * corrects the node's own address in nodes.conf. Only the absolute paths and ports are moved into
 * a temporary directory and free loopback ports.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultValues } from './load-values.ts';
import { RedisCluster } from './redis-cluster.ts';

const run = promisify(execFile);
const PASSWORD = 'test-password';
const HOSTNAME = 'redis-cluster-0.redis-cluster-headless.perfpilot.svc.cluster.local';

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

let dir: string;
let port: number;
let busPort: number;
let redis: ChildProcess | undefined;

async function cli(args: readonly string[], auth = true): Promise<string> {
  const { stdout } = await run('redis-cli', [
    '-p',
    String(port),
    ...(auth ? ['-a', PASSWORD, '--no-auth-warning'] : []),
    ...args,
  ]);
  return stdout.trim();
}

async function startNode(podIp: string): Promise<void> {
  redis = spawn('sh', [join(dir, 'etc/start.sh')], {
    env: { PATH: process.env.PATH, REDIS_PASSWORD: PASSWORD, POD_NAME: 'redis-cluster-0', POD_IP: podIp },
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    if ((await cli(['ping']).catch(() => '')) === 'PONG') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not answer PING within 10 s');
}

async function stopNode(): Promise<void> {
  const exited = new Promise((r) => redis?.once('exit', r));
  await cli(['shutdown', 'nosave']).catch(() => undefined);
  await exited;
  redis = undefined;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'perfpilot-redis-conf-'));
  [port, busPort] = [await freePort(), await freePort()];
  const chart = Testing.chart();
  new RedisCluster(chart, 'redis', {
    namespace: 'perfpilot',
    config: defaultValues().redis,
    clusterDomain: 'cluster.local',
    clientSelectors: [],
    monitoringNamespace: 'monitoring',
  });
  const config = (Testing.synth(chart) as { kind: string; data?: Record<string, string> }[]).find(
    (o) => o.kind === 'ConfigMap',
  )?.data;
  if (!config) throw new Error('no Redis ConfigMap');
  const relocate = (text: string) =>
    text
      .replaceAll('/data', join(dir, 'data'))
      .replaceAll('/run/redis', join(dir, 'run'))
      .replaceAll('/etc/redis', join(dir, 'etc'))
      .replaceAll('6379@16379', `${port}@${busPort}`)
      .replace(/^port 6379$/m, `port ${port}`)
      .replace(/^cluster-port 16379$/m, `cluster-port ${busPort}`);
  for (const sub of ['data', 'run', 'etc']) await mkdir(join(dir, sub));
  for (const [key, text] of Object.entries(config)) await writeFile(join(dir, 'etc', key), relocate(text));
  await startNode('127.0.0.1');
});

afterAll(async () => {
  if (redis) await stopNode();
  await rm(dir, { recursive: true, force: true });
});

describe('the Redis ConfigMap on a real redis-server', () => {
  it('applies the seed’s settings, with maxmemory from maxmemory.conf', async () => {
    expect(await cli(['config', 'get', 'maxmemory'])).toBe(`maxmemory\n${512 * 1024 * 1024}`);
    expect(await cli(['config', 'get', 'maxmemory-policy'])).toBe('maxmemory-policy\nallkeys-lru');
    expect(await cli(['config', 'get', 'timeout'])).toBe('timeout\n300');
    expect(await cli(['config', 'get', 'hz'])).toBe('hz\n10');
    expect(await cli(['config', 'get', 'maxclients'])).toBe('maxclients\n1000');
    expect(await cli(['config', 'get', 'appendonly'])).toBe('appendonly\nyes');
  });

  it('requires the password from the Secret', async () => {
    expect(await cli(['ping'], false)).toMatch(/NOAUTH/);
  });

  it('runs in cluster mode and announces its stable hostname', async () => {
    expect(await cli(['config', 'get', 'cluster-announce-hostname'])).toBe(
      `cluster-announce-hostname\n${HOSTNAME}`,
    );
    expect(await cli(['config', 'get', 'cluster-preferred-endpoint-type'])).toBe(
      'cluster-preferred-endpoint-type\nhostname',
    );
    expect(await cli(['cluster', 'myid'])).toMatch(/^[0-9a-f]{40}$/);
  });

  it('after a reschedule, the node’s stale IP in nodes.conf is replaced by the new pod IP', async () => {
    const id = await cli(['cluster', 'myid']);
    await cli(['cluster', 'saveconfig']);
    await stopNode();
    // As in a cluster whose node ran at 10.1.2.3 before the pod moved: peers told it that address.
    const file = join(dir, 'data/nodes.conf');
    const stale = (await readFile(file, 'utf8')).replace(/ [0-9.]*:(\d+@\d+)/, ' 10.1.2.3:$1');
    await writeFile(file, stale);
    expect(stale).toContain(`${id} 10.1.2.3:${port}@${busPort}`);
    await startNode('127.0.0.2');
    expect(await cli(['cluster', 'myid'])).toBe(id);
    const myself = (await cli(['cluster', 'nodes'])).split('\n').find((l) => l.includes('myself'));
    expect(myself).toContain(`${id} 127.0.0.2:${port}@${busPort},${HOSTNAME} myself,master`);
  });
});
