/**
 * Redis INFO through the metric sources, against real redis-server: one node and a 6-node
 * cluster (3 masters, 3 replicas). Rates come from two readings and survive a counter reset;
 * connections are shared per endpoint set; a stopped node is unknown by name, then recovers.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisReaders } from '../../operator/src/metrics/redis-source.ts';
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '../cluster/redis.ts';

const password = 'metrics-redis-password';
const now = () => Date.now() / 1000;

async function clientCount(client: Redis): Promise<number> {
  const list = String(await client.call('CLIENT', 'LIST'));
  return list.trim().split('\n').length;
}

describe('Redis INFO from one node', () => {
  let server: RedisServer;
  let client: Redis;
  const readers = new RedisReaders();
  const options = () => ({
    endpoints: [`${server.host}:${server.port}`],
    password,
    secondReadingDelayMs: 200,
  });

  beforeAll(async () => {
    server = await startRedis({ password });
    client = server.client();
    await client.config('SET', 'maxmemory', '64mb');
  });
  afterAll(async () => {
    readers.close();
    client?.disconnect();
    await server?.stop();
  });

  it('turns two readings into hit and miss rates, and reports memory', async () => {
    const reader = readers.get(options());
    const first = await reader.read(now);
    expect(first.unknown).toEqual([]);
    await client.set('present', 'x');
    const started = now();
    for (let i = 0; i < 200; i++) await client.get('present');
    for (let i = 0; i < 50; i++) await client.get(`absent-${i}`);
    const getsTook = now() - started;
    await new Promise((r) => setTimeout(r, 300));
    const second = await reader.read(now);
    expect(second.unknown).toEqual([]);
    const hits = second.signals?.hitsPerSecond ?? 0;
    const misses = second.signals?.missesPerSecond ?? 0;
    // Every get happened between the two readings: the first was taken before them, the second
    // after the 300 ms pause that followed them, so the window is at least the gets' time + 0.3 s
    // (0.29: a timer may fire up to a few ms early).
    // (Not the test's own time to the end: the reader stamps its reading before the test's clock
    // reads again, and a CI run saw 619 hits/s against a bound of 615 from that.)
    expect(hits).toBeGreaterThan(0);
    expect(hits).toBeLessThanOrEqual(200 / (getsTook + 0.29));
    expect(hits / misses).toBeCloseTo(4, 5);
    expect(second.signals?.maxMemoryBytes).toBe(64 * 1024 * 1024);
    expect(second.signals?.usedMemoryBytes).toBeGreaterThan(0);
    expect(second.masters).toBe(1);
  });

  it('never reports a negative rate after the counters are reset', async () => {
    const reader = readers.get(options());
    await reader.read(now);
    for (let i = 0; i < 100; i++) await client.get('present');
    await client.config('RESETSTAT');
    for (let i = 0; i < 10; i++) await client.get('present');
    const after = await reader.read(now);
    expect(after.unknown).toEqual([]);
    expect(after.signals?.hitsPerSecond).toBeGreaterThan(0);
    for (const value of Object.values(after.signals ?? {})) expect(value).toBeGreaterThanOrEqual(0);
  });

  it('shares one connection per endpoint set across reads, not one per reconcile', async () => {
    await readers.get(options()).read(now);
    const before = await clientCount(client);
    for (let i = 0; i < 5; i++) await readers.get({ ...options() }).read(now);
    expect(await clientCount(client)).toBe(before);
    expect(readers.size).toBe(1);
  });

  it('a wrong password leaves Redis unknown, naming the node and not the password', async () => {
    const wrong = new RedisReaders();
    try {
      const m = await wrong.get({ ...options(), password: 'wrong-redis-secret' }).read(now);
      expect(m.signals).toBeUndefined();
      expect(m.unknown[0]?.message).toMatch(
        new RegExp(`redis 127\\.0\\.0\\.1:${server.port}: unreachable: .*WRONGPASS`),
      );
      expect(JSON.stringify(m)).not.toContain('wrong-redis-secret');
    } finally {
      wrong.close();
    }
  });
});

describe('Redis INFO over TLS', () => {
  it('reads a TLS-only node with the CA bundle, and names the failure without it', async () => {
    const server = await startRedis({ password, tls: true });
    const readers = new RedisReaders();
    try {
      const base = {
        endpoints: [`${server.host}:${server.port}`],
        password,
        secondReadingDelayMs: 100,
      };
      const m = await readers.get({ ...base, tls: true, ca: server.caCert ?? '' }).read(now);
      expect(m.unknown).toEqual([]);
      expect(m.masters).toBe(1);
      const untrusted = await readers.get({ ...base, tls: true }).read(now);
      expect(untrusted.signals).toBeUndefined();
      expect(untrusted.unknown[0]?.message).toMatch(
        new RegExp(`redis 127\\.0\\.0\\.1:${server.port}: unreachable: .*certificate`),
      );
      const plain = await readers.get(base).read(now);
      expect(plain.signals).toBeUndefined();
    } finally {
      readers.close();
      await server.stop();
    }
  });
});

describe('Redis INFO from a 6-node cluster', () => {
  let cluster: RedisCluster;
  const readers = new RedisReaders();
  const options = () => ({
    endpoints: [`${cluster.nodes[0]?.host}:${cluster.nodes[0]?.port}`],
    password,
    secondReadingDelayMs: 200,
  });

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, password });
  });
  afterAll(async () => {
    readers.close();
    await cluster?.stop();
  });

  it('discovers every master and replica from one seed', async () => {
    const m = await readers.get(options()).read(now);
    expect(m.unknown).toEqual([]);
    expect([m.masters, m.replicas]).toEqual([3, 3]);
    expect(m.signals?.evictedKeysPerSecond).toBeGreaterThanOrEqual(0);
  });

  it('names a stopped node as unknown, and measures all six again once it is back', async () => {
    const roles = await cluster.roles();
    const replica = [...roles].find(([, role]) => role === 'replica')?.[0];
    if (replica === undefined) throw new Error('no replica');
    await cluster.stopNode(replica);
    try {
      const m = await readers.get(options()).read(now);
      expect(m.signals).toBeUndefined();
      expect(m.unknown.some((u) => u.message.startsWith(`redis 127.0.0.1:${replica}:`))).toBe(true);
    } finally {
      await cluster.startNode(replica);
    }
    const deadline = Date.now() + 30_000;
    let back = await readers.get(options()).read(now);
    while ((back.unknown.length > 0 || back.replicas < 3) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      back = await readers.get(options()).read(now);
    }
    expect(back.unknown).toEqual([]);
    expect([back.masters, back.replicas]).toEqual([3, 3]);
  });
});
