/**
 * The bootstrap Job's script, run for real against six fresh redis-server 7 nodes in cluster
 * mode: the first run creates a 3-master, 3-replica cluster; a second run finds it, changes
 * nothing and exits 0, so re-running the Job is safe. Only the endpoints differ from the Job
 * (loopback ports instead of the StatefulSet's DNS names).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapScript } from './redis-cluster-bootstrap-job.ts';

const run = promisify(execFile);
const PASSWORD = 'bootstrap-test';
const NODES = 6;

let dir: string;
const ports: number[] = [];
const servers: ChildProcess[] = [];

async function portPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port + 10_000 < 65_536 && !ports.includes(port)) return port;
  }
}

async function cli(port: number, args: readonly string[]): Promise<string> {
  const { stdout } = await run('redis-cli', [
    '-p',
    String(port),
    '-a',
    PASSWORD,
    '--no-auth-warning',
    ...args,
  ]);
  return stdout.replaceAll('\r', '').trim();
}

async function runScript(): Promise<{ code: number; output: string }> {
  const script = bootstrapScript(
    ports.map((p) => `127.0.0.1:${p}`),
    1,
  );
  try {
    const { stdout, stderr } = await run('sh', ['-c', script], {
      env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD },
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function clusterSettled(): Promise<Map<string, string>> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const infos = await Promise.all(ports.map((p) => cli(p, ['cluster', 'info']).catch(() => '')));
    if (infos.every((i) => i.includes('cluster_state:ok') && i.includes(`cluster_known_nodes:${NODES}`))) {
      const nodes = (await cli(ports[0] ?? 0, ['cluster', 'nodes'])).split('\n');
      const roles = new Map(
        nodes
          .map((l) => l.split(' '))
          .map(([id, , flags]) => [id ?? '', (flags ?? '').replace('myself,', '')]),
      );
      // Replicas are assigned after the slots; wait until the first node has seen every role.
      const masters = [...roles.values()].filter((f) => f === 'master').length;
      if (masters === NODES / 2 && roles.size === NODES) return roles;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the cluster did not settle: cluster_state:ok on every node, 3 masters and 3 replicas');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'perfpilot-bootstrap-'));
  for (let i = 0; i < NODES; i++) ports.push(await portPair());
  for (const port of ports) {
    const conf = join(dir, `${port}.conf`);
    await writeFile(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'cluster-enabled yes',
        `cluster-config-file ${join(dir, `nodes-${port}.conf`)}`,
        'cluster-node-timeout 2000',
        `dir ${dir}`,
        'appendonly no',
        'save ""',
        `requirepass ${PASSWORD}`,
        `masterauth ${PASSWORD}`,
        '',
      ].join('\n'),
    );
    servers.push(spawn('redis-server', [conf], { stdio: 'ignore' }));
  }
});

afterAll(async () => {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise((resolve) => {
          if (s.exitCode !== null) return resolve(null);
          s.once('exit', resolve);
          s.kill();
        }),
    ),
  );
  await rm(dir, { recursive: true, force: true });
});

describe('the Redis Cluster bootstrap script on real redis-server nodes', () => {
  it('creates a cluster of 3 masters and 3 replicas, then a re-run changes nothing', async () => {
    const first = await runScript();
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain('creating the cluster');
    const created = await clusterSettled();
    expect([...created.values()].filter((f) => f === 'master')).toHaveLength(3);
    expect([...created.values()].filter((f) => f === 'slave')).toHaveLength(3);

    const second = await runScript();
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('cluster exists (6 nodes known)');
    expect(second.output).not.toContain('creating the cluster');
    expect(second.output).toContain('[OK] All 16384 slots covered.');
    expect(await clusterSettled()).toEqual(created);
  });
});
