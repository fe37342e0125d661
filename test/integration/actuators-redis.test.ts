/**
 * The maxmemory actuator and observer against real redis-server processes: a 3-master, 3-replica
 * Redis Cluster and a standalone node; and its persistence in the toolkit's Redis ConfigMap on a
 * real kube-apiserver. CONFIG SET reaches every node, a node that is down is named
 * and converged once it is back, connections are shared and closed, and the password shows up in
 * no result, error or log line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { ActuatorContext } from '../../operator/src/actuators/context.ts';
import { makeTargetClients } from '../../operator/src/actuators/context.ts';
import {
  applyRedisMaxMemory,
  BYTES_PER_MIB,
  observeRedisMaxMemory,
  type RedisTarget,
} from '../../operator/src/actuators/redis-maxmemory.ts';
import { kubeSecretReader } from '../../operator/src/actuators/secrets.ts';
import { RedisConnections } from '../../operator/src/redis/connections.ts';
import { createLogger } from '../../operator/src/telemetry/logger.ts';
import { DEFAULT_TUNING_SPEC } from '../../operator/src/tuning/tuning-spec-from-profile.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '../cluster/redis.ts';
import { handOverToPerfpilot } from './fixtures.ts';

const password = 'pp-actuator-redis-Secret-9f3e';
/** A ceiling well above the values used: the limit of the seed's Redis containers, 4 GiB. */
const ceiling = { tuning: DEFAULT_TUNING_SPEC };

let cluster: RedisCluster;
let standalone: RedisServer;
let redis: RedisConnections;
let ctx: Pick<ActuatorContext, 'clients' | 'redis' | 'readSecret'>;
let clusterTarget: RedisTarget;

/** maxmemoryOf reads CONFIG GET maxmemory from one node over a connection of its own. */
async function maxmemoryOf(port: number): Promise<number> {
  const client = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    const [, value] = (await client.call('CONFIG', 'GET', 'maxmemory')) as [string, string];
    return Number(value);
  } finally {
    client.disconnect();
  }
}

async function connectedClients(port: number): Promise<number> {
  const client = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    // This probe's own connection is one of them.
    return Number(/connected_clients:(\d+)/.exec(await client.info('clients'))?.[1]) - 1;
  } finally {
    client.disconnect();
  }
}

beforeAll(async () => {
  [cluster, standalone] = await Promise.all([
    startRedisCluster({ masters: 3, replicasPerMaster: 1, password }),
    startRedis({ password }),
  ]);
  redis = new RedisConnections();
  // Without a configMapName nothing is persisted: these Kubernetes clients point nowhere.
  const nowhere = new KubeConfig();
  nowhere.loadFromClusterAndUser(
    { name: 'nowhere', server: 'https://127.0.0.1:1', skipTLSVerify: true },
    { name: 'nobody' },
  );
  ctx = { clients: makeTargetClients(nowhere), redis, readSecret: async () => password };
  clusterTarget = {
    namespace: 'perfpilot',
    // Two seeds are enough: every other node comes from CLUSTER NODES.
    endpoints: cluster.nodes.slice(0, 2).map((n) => `${n.host}:${n.port}`),
    passwordSecretRef: { name: 'redis-auth', key: 'password' },
  };
});

afterAll(async () => {
  await redis?.close();
  await Promise.all([cluster?.stop(), standalone?.stop()]);
});

describe('Redis Cluster', () => {
  it('sets maxmemory on all six nodes, masters and replicas, and reads it back in bytes', async () => {
    const result = await applyRedisMaxMemory(ctx, clusterTarget, 300, ceiling);
    expect(result.kind).toBe('converged');
    if (result.kind === 'refused') throw new Error(result.message);
    expect(result.bytes).toBe(300 * BYTES_PER_MIB);
    expect(result.failed).toEqual([]);
    expect(result.nodes.map((n) => n.address)).toEqual(
      cluster.nodes.map((n) => `${n.host}:${n.port}`).sort((a, b) => a.localeCompare(b)),
    );
    expect(result.nodes.filter((n) => n.role === 'master')).toHaveLength(3);
    expect(result.nodes.filter((n) => n.role === 'replica')).toHaveLength(3);
    expect(result.nodes.every((n) => n.changed && n.beforeBytes === 0)).toBe(true);
    expect(result.persisted).toEqual({ kind: 'notConfigured' });
    for (const node of cluster.nodes) expect(await maxmemoryOf(node.port)).toBe(300 * BYTES_PER_MIB);
  });

  it('changes nothing when every node holds the value already', async () => {
    const result = await applyRedisMaxMemory(ctx, clusterTarget, 300, ceiling);
    expect(result.kind).toBe('converged');
    if (result.kind === 'refused') throw new Error(result.message);
    expect(result.nodes.map((n) => n.changed)).toEqual([false, false, false, false, false, false]);
  });

  it('refuses a value above 0.75 × the smallest container memory limit and touches no node', async () => {
    const result = await applyRedisMaxMemory(ctx, clusterTarget, 800, {
      tuning: DEFAULT_TUNING_SPEC,
      containerMemoryLimitsMiB: [4096, 1024, 2048],
    });
    expect(result).toMatchObject({ kind: 'refused', requestedMiB: 800, ceilingMiB: 768 });
    if (result.kind !== 'refused') throw new Error('not refused');
    expect(result.message).toContain('from 1 to 768');
    for (const node of cluster.nodes) expect(await maxmemoryOf(node.port)).toBe(300 * BYTES_PER_MIB);
  });

  it('observes the value on every node, and names the node that diverges', async () => {
    const agreed = await observeRedisMaxMemory(ctx, clusterTarget);
    expect(agreed).toMatchObject({ divergent: false, maxMemoryMiB: 300, failed: [] });
    expect(agreed.nodes).toHaveLength(6);

    const [replicaPort] = [...(await cluster.roles())].find(([, role]) => role === 'replica') ?? [];
    const direct = new Redis({ host: '127.0.0.1', port: replicaPort, password });
    await direct.call('CONFIG', 'SET', 'maxmemory', String(100 * BYTES_PER_MIB));
    direct.disconnect();
    const diverged = await observeRedisMaxMemory(ctx, clusterTarget);
    expect(diverged.divergent).toBe(true);
    expect(diverged.maxMemoryMiB).toBeUndefined();
    expect(diverged.nodes.filter((n) => n.bytes !== 300 * BYTES_PER_MIB)).toEqual([
      { address: `127.0.0.1:${replicaPort}`, role: 'replica', bytes: 100 * BYTES_PER_MIB },
    ]);

    const converged = await applyRedisMaxMemory(ctx, clusterTarget, 300, ceiling);
    if (converged.kind === 'refused') throw new Error(converged.message);
    expect(converged.nodes.filter((n) => n.changed).map((n) => n.address)).toEqual([
      `127.0.0.1:${replicaPort}`,
    ]);
    expect((await observeRedisMaxMemory(ctx, clusterTarget)).divergent).toBe(false);
  });

  it('keeps one connection per node across calls, and closes them on close()', async () => {
    const counts = () => Promise.all(cluster.nodes.map((n) => connectedClients(n.port)));
    const baseline = await counts();
    const own = new RedisConnections();
    const withOwn = { ...ctx, redis: own };
    for (let i = 0; i < 5; i++) {
      await observeRedisMaxMemory(withOwn, clusterTarget);
      await applyRedisMaxMemory(withOwn, clusterTarget, 300, ceiling);
    }
    // Ten calls, six nodes: one connection each.
    expect(own.size).toBe(6);
    expect(await counts()).toEqual(baseline.map((n) => n + 1));
    // A profile deleted or pointed elsewhere: its endpoint set's connections go.
    own.release(clusterTarget);
    expect(own.size).toBe(0);
    await vi.waitFor(async () => expect(await counts()).toEqual(baseline));
    await observeRedisMaxMemory(withOwn, clusterTarget);
    expect(await counts()).toEqual(baseline.map((n) => n + 1));
    await own.close();
    await vi.waitFor(async () => expect(await counts()).toEqual(baseline));
    // Closed is closed: no connection is opened again behind the caller's back.
    const afterClose = await observeRedisMaxMemory(withOwn, clusterTarget);
    expect(afterClose.nodes).toEqual([]);
    expect(afterClose.failed.map((f) => f.error)).toEqual([
      'Redis connections are closed',
      'Redis connections are closed',
    ]);
    expect(await counts()).toEqual(baseline);
  });

  it('names a master that is down as failed, sets the others, and converges it once it is back', async () => {
    const roles = await cluster.roles();
    const [masterPort] = [...roles].find(([, role]) => role === 'master') ?? [];
    if (masterPort === undefined) throw new Error('no master');
    const down = `127.0.0.1:${masterPort}`;
    await cluster.stopNode(masterPort);
    try {
      const partial = await applyRedisMaxMemory(ctx, clusterTarget, 400, ceiling);
      expect(partial.kind).toBe('partial');
      if (partial.kind === 'refused') throw new Error(partial.message);
      expect(partial.failed.map((f) => f.address)).toEqual([down]);
      expect(partial.failed[0]?.role).toBe('master');
      // The node that is down is not waited for (a command queued for its reconnect would fail
      // with ioredis's "max retries per request" instead): it is named as not connected, and the
      // reconcile goes on.
      expect(partial.failed[0]?.error).toMatch(
        new RegExp(`^${down.replaceAll('.', '\\.')}: not connected\\b`),
      );
      expect(partial.nodes).toHaveLength(5);
      for (const node of cluster.nodes.filter((n) => n.port !== masterPort)) {
        expect(await maxmemoryOf(node.port)).toBe(400 * BYTES_PER_MIB);
      }
      const observed = await observeRedisMaxMemory(ctx, clusterTarget);
      expect(observed.failed.map((f) => f.address)).toEqual([down]);
      expect(observed.maxMemoryMiB).toBe(400);
    } finally {
      await cluster.startNode(masterPort);
    }
    // Restarted from its config file, the node has lost the value set while it was down.
    expect(await maxmemoryOf(masterPort)).toBe(0);
    // Once the shared connection is back (it reconnects within 2 s), the observer sees the divergence.
    await vi.waitFor(
      async () => {
        const observed = await observeRedisMaxMemory(ctx, clusterTarget);
        expect(observed.failed).toEqual([]);
        expect(observed.divergent).toBe(true);
      },
      { timeout: 15_000, interval: 250 },
    );
    // The reconcile after it comes back (the shared connection reconnects within 2 s).
    const converged = await vi.waitFor(
      async () => {
        const result = await applyRedisMaxMemory(ctx, clusterTarget, 400, ceiling);
        expect(result.kind).toBe('converged');
        return result;
      },
      { timeout: 15_000, interval: 500 },
    );
    if (converged.kind === 'refused') throw new Error(converged.message);
    expect(converged.nodes.filter((n) => n.changed).map((n) => n.address)).toEqual([down]);
    for (const node of cluster.nodes) expect(await maxmemoryOf(node.port)).toBe(400 * BYTES_PER_MIB);
  }, 60_000);
});

describe('standalone Redis', () => {
  it('sets, reads back and observes maxmemory on the one node', async () => {
    const target: RedisTarget = {
      namespace: 'perfpilot',
      endpoints: [`${standalone.host}:${standalone.port}`],
      passwordSecretRef: { name: 'redis-auth', key: 'password' },
    };
    const result = await applyRedisMaxMemory(ctx, target, 128, ceiling);
    expect(result).toMatchObject({
      kind: 'converged',
      nodes: [{ address: `127.0.0.1:${standalone.port}`, role: 'master', beforeBytes: 0, changed: true }],
      failed: [],
    });
    expect(await maxmemoryOf(standalone.port)).toBe(128 * BYTES_PER_MIB);
    expect(await observeRedisMaxMemory(ctx, target)).toMatchObject({ divergent: false, maxMemoryMiB: 128 });
  });
});

describe('the password', () => {
  it('appears in no result, error message or log line, whatever fails', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const consoleLines: string[] = [];
    const spies = (['log', 'warn', 'error'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
        consoleLines.push(args.map(String).join(' '));
      }),
    );
    const wrong = 'pp-wrong-Password-41c7';
    try {
      // Every node rejects the password: each one fails with WRONGPASS, whose ioredis error carries AUTH's arguments.
      const rejected = await applyRedisMaxMemory(
        { ...ctx, readSecret: async () => wrong },
        clusterTarget,
        300,
        ceiling,
      );
      expect(rejected.kind).toBe('partial');
      if (rejected.kind === 'refused') throw new Error(rejected.message);
      expect(rejected.failed.length).toBeGreaterThan(0);
      expect(rejected.failed.map((f) => f.error).join('\n')).toMatch(/WRONGPASS|invalid/i);
      // A node that is down, with the right password.
      const port = cluster.nodes[5]?.port ?? 0;
      await cluster.stopNode(port);
      let down: Awaited<ReturnType<typeof applyRedisMaxMemory>>;
      try {
        down = await applyRedisMaxMemory(ctx, clusterTarget, 300, ceiling);
      } finally {
        await cluster.startNode(port);
      }
      // A seed that refuses the connection, standalone.
      const unreachable = await observeRedisMaxMemory(ctx, {
        namespace: 'perfpilot',
        endpoints: ['127.0.0.1:1'],
      });
      expect(unreachable.failed.map((f) => f.address)).toEqual(['127.0.0.1:1']);
      // What reconcile would log and put in status and Events.
      for (const result of [rejected, down, unreachable]) {
        logger.warn({ result, profile: 'perfpilot/risk-api' }, 'maxmemory not applied everywhere');
      }
      const everything = [JSON.stringify([rejected, down, unreachable]), ...lines, ...consoleLines].join(
        '\n',
      );
      expect(lines.length).toBe(3);
      expect(everything).not.toContain(password);
      expect(everything).not.toContain(wrong);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    // Leave every node set, with the restarted one reconnected, for the tests after this one.
    await vi.waitFor(
      async () =>
        expect((await applyRedisMaxMemory(ctx, clusterTarget, 300, ceiling)).kind).toBe('converged'),
      { timeout: 15_000, interval: 500 },
    );
  }, 60_000);
});

describe('persisted in the Redis ConfigMap', () => {
  let cp: ControlPlane;
  let kube: Pick<ActuatorContext, 'clients' | 'redis' | 'readSecret'>;
  const path = () => join(cp.dir, 'redis-config.yaml');
  const readRedisConfig = () =>
    cp.kubeConfig
      .makeApiClient(CoreV1Api)
      .readNamespacedConfigMap({ namespace: 'perfpilot', name: 'redis-cluster-config' });

  beforeAll(async () => {
    cp = await startControlPlane();
    const root = fileURLToPath(new URL('../..', import.meta.url));
    await cp.kubectl(['apply', '-f', join(root, 'manifests/namespace.yaml')]);
    // The Redis ConfigMap exactly as the toolkit generates it, applied with kubectl.
    // Its text as generated, not re-serialized: the scripts in it must stay byte for byte.
    const text = readFileSync(join(root, 'manifests/redis-cluster.yaml'), 'utf8');
    const doc = parseAllDocuments(text).find((d) => (d.toJSON() as { kind?: string }).kind === 'ConfigMap');
    if (!doc?.range) throw new Error('no ConfigMap in manifests/redis-cluster.yaml');
    writeFileSync(path(), text.slice(doc.range[0], doc.range[2]));
    await cp.kubectl(['apply', '-f', path()]);
    const clients = makeTargetClients(cp.kubeConfig);
    await clients.core.createNamespacedSecret({
      namespace: 'perfpilot',
      body: { metadata: { name: 'redis-auth' }, stringData: { password } },
    });
    // The real Secret reader: the password comes from the API server.
    kube = { clients, redis, readSecret: kubeSecretReader(clients.core) };
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('sets all six nodes, and writes maxmemory.conf once the field is handed over to perfpilot', async () => {
    const target: RedisTarget = { ...clusterTarget, configMapName: 'redis-cluster-config' };
    const before = await readRedisConfig();
    expect(before.data?.['maxmemory.conf']).toBe('maxmemory 512mb\n');

    // kubectl apply owns the key: the nodes are set, the ConfigMap is not, and the result says why.
    const conflicted = await applyRedisMaxMemory(kube, target, 600, ceiling);
    expect(conflicted.kind).toBe('converged');
    if (conflicted.kind === 'refused') throw new Error(conflicted.message);
    expect(conflicted.persisted).toMatchObject({
      kind: 'conflict',
      object: 'ConfigMap perfpilot/redis-cluster-config',
      conflicts: [{ manager: 'kubectl-client-side-apply', field: '.data.maxmemory.conf' }],
    });
    expect((await readRedisConfig()).metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);

    // The GitOps guide's hand-over of the one key, then the next apply persists it.
    await handOverToPerfpilot(
      cp,
      [path()],
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: redis-cluster-config, namespace: perfpilot}',
        'data: {maxmemory.conf: "maxmemory 512mb\\n"}',
        '',
      ].join('\n'),
    );
    const persisted = await applyRedisMaxMemory(kube, target, 600, ceiling);
    expect(persisted).toMatchObject({
      kind: 'converged',
      persisted: { kind: 'applied', object: 'ConfigMap perfpilot/redis-cluster-config' },
    });
    for (const node of cluster.nodes) expect(await maxmemoryOf(node.port)).toBe(600 * BYTES_PER_MIB);
    const after = await readRedisConfig();
    expect(after.data?.['maxmemory.conf']).toBe('maxmemory 600mb\n');
    // redis.conf and start.sh are the toolkit's, untouched.
    expect(after.data?.['redis.conf']).toBe(before.data?.['redis.conf']);
    expect(after.data?.['start.sh']).toBe(before.data?.['start.sh']);

    // Nothing left to write on the next cycle.
    const again = await applyRedisMaxMemory(kube, target, 600, ceiling);
    expect(again).toMatchObject({ kind: 'converged', persisted: { kind: 'unchanged' } });
    expect((await readRedisConfig()).metadata?.resourceVersion).toBe(after.metadata?.resourceVersion);
  });
});
