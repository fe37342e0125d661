/**
 * The harness's Redis is a real redis-server: a password-protected node, and a 3-master,
 * 3-replica cluster that fails over when a master dies.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RedisCluster, startRedis, startRedisCluster } from '../cluster/redis.ts';

const password = 'harness-test-password';

describe('single redis-server', () => {
  it('requires the password and serves commands with it', async () => {
    const server = await startRedis({ password });
    const client = server.client();
    try {
      await client.set('k', 'v');
      expect(await client.get('k')).toBe('v');
      const anonymous = server.client();
      anonymous.options.password = undefined;
      await expect(anonymous.call('AUTH', 'wrong-password')).rejects.toThrow(/WRONGPASS|invalid/i);
      anonymous.disconnect();
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});

describe('redis cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, password });
    client = new Cluster(
      cluster.nodes.map((n) => ({ host: n.host, port: n.port })),
      { redisOptions: { password }, clusterRetryStrategy: (times) => Math.min(100 * times, 1000) },
    );
    // The failover test kills a node on purpose; its connection errors are expected.
    client.on('error', () => {});
  });

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('has 3 masters and 3 replicas', async () => {
    const roles = [...(await cluster.roles()).values()];
    expect(roles.filter((r) => r === 'master')).toHaveLength(3);
    expect(roles.filter((r) => r === 'replica')).toHaveLength(3);
  });

  it('writes and reads keys spread over all masters', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `key:${i}`);
    for (const key of keys) await client.set(key, `value-of-${key}`);
    for (const key of keys) expect(await client.get(key)).toBe(`value-of-${key}`);
    const perMaster = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
    expect(perMaster).toHaveLength(3);
    for (const count of perMaster) expect(count).toBeGreaterThan(0);
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe(keys.length);
  });

  it('CONFIG SET maxmemory on every node reads back', async () => {
    const maxmemory = String(300 * 1024 * 1024);
    for (const { host, port } of cluster.nodes) {
      const node = new Redis({ host, port, password });
      try {
        await node.config('SET', 'maxmemory', maxmemory);
        expect(await node.config('GET', 'maxmemory')).toEqual(['maxmemory', maxmemory]);
      } finally {
        node.disconnect();
      }
    }
    expect(cluster.nodes).toHaveLength(6);
  });

  it('promotes a replica when its master stops, and the old master rejoins as a replica', async () => {
    const roles = await cluster.roles();
    const victim = [...roles].find(([, role]) => role === 'master')?.[0];
    if (victim === undefined) throw new Error('no master found');
    await cluster.stopNode(victim);
    await vi.waitFor(
      async () => {
        const after = await cluster.roles();
        expect([...after.values()].filter((r) => r === 'master')).toHaveLength(3);
      },
      { timeout: 20_000, interval: 250 },
    );
    await client.set('after-failover', 'ok');
    expect(await client.get('after-failover')).toBe('ok');
    await cluster.startNode(victim);
    await vi.waitFor(async () => expect((await cluster.roles()).get(victim)).toBe('replica'), {
      timeout: 20_000,
      interval: 250,
    });
  });
});
