import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  aggregateRedis,
  type NodeRates,
  type NodeReading,
  nodeRates,
  parseRedisInfo,
  type RedisNodeInfo,
} from './redis-info.ts';

const INFO = [
  '# Server',
  'redis_version:7.0.15',
  'run_id:aaaa',
  'uptime_in_seconds:1000',
  '# Clients',
  'connected_clients:12',
  '# Memory',
  'used_memory:104857600',
  'maxmemory:536870912',
  '# Stats',
  'keyspace_hits:9000',
  'keyspace_misses:1000',
  'evicted_keys:50',
  'expired_keys:70',
  '# Replication',
  'role:master',
  '',
].join('\r\n');

describe('parseRedisInfo', () => {
  it('reads the fields the operator uses', () => {
    expect(parseRedisInfo(INFO)).toEqual({
      role: 'master',
      runId: 'aaaa',
      uptimeSeconds: 1000,
      usedMemoryBytes: 104857600,
      maxmemoryBytes: 536870912,
      keyspaceHits: 9000,
      keyspaceMisses: 1000,
      evictedKeys: 50,
      expiredKeys: 70,
      connectedClients: 12,
    });
  });

  it.each<[string, string, string | RegExp]>([
    ['a replica (Redis ≥ 5 says slave)', INFO.replace('role:master', 'role:slave'), 'replica'],
    ['a missing counter', INFO.replace('evicted_keys:50\r\n', ''), /INFO field evicted_keys is missing/],
    [
      'a counter that is not a number',
      INFO.replace('keyspace_hits:9000', 'keyspace_hits:x'),
      /keyspace_hits is not a count: "x"/,
    ],
    ['a missing role', INFO.replace('role:master', ''), /INFO field role is missing/],
  ])('%s', (_what, text, expected) => {
    if (typeof expected === 'string') expect(parseRedisInfo(text).role).toBe(expected);
    else expect(() => parseRedisInfo(text)).toThrow(expected);
  });
});

const info = (over: Partial<RedisNodeInfo> = {}): RedisNodeInfo => ({ ...parseRedisInfo(INFO), ...over });
const reading = (
  atSeconds: number,
  over: Partial<RedisNodeInfo> = {},
  node = '10.0.0.1:6379',
): NodeReading => ({
  node,
  atSeconds,
  info: info(over),
});

describe('nodeRates', () => {
  it.each<[string, NodeReading, NodeReading, Partial<ReturnType<typeof nodeRates>> | undefined]>([
    [
      'counters that grew over 10 s',
      reading(0),
      reading(10, { keyspaceHits: 10000, keyspaceMisses: 1100, evictedKeys: 60, expiredKeys: 90 }),
      {
        hitsPerSecond: 100,
        missesPerSecond: 10,
        evictedKeysPerSecond: 1,
        expiredKeysPerSecond: 2,
        reset: false,
      },
    ],
    [
      'a node restarted 5 s ago (another run id): its counters since the restart, over its uptime',
      reading(0),
      reading(10, {
        runId: 'bbbb',
        uptimeSeconds: 5,
        keyspaceHits: 500,
        keyspaceMisses: 50,
        evictedKeys: 0,
        expiredKeys: 5,
      }),
      {
        hitsPerSecond: 100,
        missesPerSecond: 10,
        evictedKeysPerSecond: 0,
        expiredKeysPerSecond: 1,
        reset: true,
      },
    ],
    [
      'CONFIG RESETSTAT (same run id, counters went down)',
      reading(0),
      reading(10, { keyspaceHits: 200, keyspaceMisses: 20, evictedKeys: 0, expiredKeys: 0 }),
      { hitsPerSecond: 20, missesPerSecond: 2, reset: true },
    ],
    ['no time between the readings', reading(10), reading(10), undefined],
  ])('%s', (_what, earlier, later, expected) => {
    const rates = nodeRates(earlier, later);
    if (expected === undefined) expect(rates).toBeUndefined();
    else expect(rates).toMatchObject(expected);
  });

  // Each counter either grows or starts again below where it was (a restart, CONFIG RESETSTAT);
  // the node may or may not have a new run id, and may have been up for less than the interval.
  const counter = fc.nat({ max: 1e12 });
  const afterwards = (before: number) =>
    fc.oneof(
      fc.nat({ max: 1e9 }).map((grew) => before + grew),
      fc.nat({ max: before }).map((since) => since),
    );
  const counters = fc.record({
    keyspaceHits: counter,
    keyspaceMisses: counter,
    evictedKeys: counter,
    expiredKeys: counter,
  });
  const readings = fc
    .record({
      before: counters,
      restarted: fc.boolean(),
      uptimeSeconds: fc.nat({ max: 100_000 }),
      atSeconds: fc.nat({ max: 1e6 }),
      elapsedSeconds: fc.integer({ min: 1, max: 100_000 }),
    })
    .chain(({ before, ...rest }) =>
      fc
        .record({
          keyspaceHits: afterwards(before.keyspaceHits),
          keyspaceMisses: afterwards(before.keyspaceMisses),
          evictedKeys: afterwards(before.evictedKeys),
          expiredKeys: afterwards(before.expiredKeys),
        })
        .map((after) => ({ before, after, ...rest })),
    );

  test.prop([readings])(
    'is never negative, whatever the counters did, and says when they started again',
    ({ before, after, restarted, uptimeSeconds, atSeconds, elapsedSeconds }) => {
      const rates = nodeRates(
        reading(atSeconds, before),
        reading(atSeconds + elapsedSeconds, {
          ...after,
          uptimeSeconds,
          ...(restarted ? { runId: 'bbbb' } : {}),
        }),
      );
      expect(rates).toBeDefined();
      const { reset, ...perSecond } = rates as NodeRates;
      for (const [name, rate] of Object.entries(perSecond)) {
        expect(Number.isFinite(rate), name).toBe(true);
        expect(rate, name).toBeGreaterThanOrEqual(0);
      }
      const wentDown = (Object.keys(before) as (keyof typeof before)[]).some((k) => after[k] < before[k]);
      expect(reset).toBe(restarted || wentDown);
    },
  );
});

describe('aggregateRedis', () => {
  const grown = { keyspaceHits: 10000, keyspaceMisses: 1100, evictedKeys: 60, expiredKeys: 90 };
  it('takes the fullest master’s memory, sums hits over every node and evictions over masters', () => {
    const m = aggregateRedis([
      { earlier: reading(0, {}, 'a:1'), later: reading(10, { ...grown, usedMemoryBytes: 100 }, 'a:1') },
      { earlier: reading(0, {}, 'b:1'), later: reading(10, { ...grown, usedMemoryBytes: 300 }, 'b:1') },
      {
        earlier: reading(0, { role: 'replica' }, 'c:1'),
        later: reading(10, { ...grown, role: 'replica', usedMemoryBytes: 900 }, 'c:1'),
      },
    ]);
    expect(m.signals).toEqual({
      usedMemoryBytes: 300,
      maxMemoryBytes: 536870912,
      hitsPerSecond: 300,
      missesPerSecond: 30,
      evictedKeysPerSecond: 2,
      expiredKeysPerSecond: 4,
    });
    expect([m.masters, m.replicas, m.connectedClients]).toEqual([2, 1, 36]);
    expect(m.unknown).toEqual([]);
  });

  it('is unknown, naming the node, when a node has one reading', () => {
    const m = aggregateRedis([
      { earlier: reading(0), later: reading(10, grown) },
      { later: reading(10, {}, 'b:2') },
    ]);
    expect(m.signals).toBeUndefined();
    expect(m.unknown.map((u) => u.message)).toEqual([
      'redis b:2: rates need two INFO readings, and there is one',
    ]);
  });

  it('is unknown without a master', () => {
    const m = aggregateRedis([
      { earlier: reading(0, { role: 'replica' }), later: reading(10, { role: 'replica' }) },
    ]);
    expect(m.signals).toBeUndefined();
    expect(m.unknown[0]?.message).toMatch(/no master among 1 nodes read/);
  });
});
