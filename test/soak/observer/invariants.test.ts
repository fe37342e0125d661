import { describe, expect, it } from 'vitest';
import {
  accountChanges,
  checkSample,
  type HistoryEntry,
  majorityMaxmemoryMiB,
  newCheckMemory,
  type ProfileView,
  recoveryByType,
  reversals,
  rssTrend,
  type Sample,
  splitFailedRequests,
} from './invariants.ts';

const MIB = 1024 * 1024;
const T0 = Date.parse('2026-01-01T00:00:00Z');

const profile = (over: Partial<ProfileView> = {}): ProfileView => ({
  bounds: {
    poolSize: { min: 5, max: 50 },
    maxOverflow: { min: 0, max: 30 },
    redisMaxmemoryMiB: { min: 16, max: 96 },
    minReplicas: { min: 2, max: 10 },
    maxReplicas: { min: 2, max: 10 },
  },
  containerMemoryLimitMiB: 128,
  connectionBudget: 90,
  evaluationIntervalSeconds: 10,
  stabilizationWindowSeconds: 60,
  conditions: { Ready: 'True', MetricsAvailable: 'True', Degraded: 'False' },
  current: { poolSize: 5, redisMaxmemoryMiB: 16 },
  ...over,
});

const sample = (at: number, over: Partial<Sample> = {}): Sample => ({
  t: T0 + at * 1000,
  pgConnections: 10,
  redis: [7000, 7001, 7002].map((port) => ({ port, maxmemoryBytes: 16 * MIB })),
  knobs: { poolSize: 5, maxOverflow: 0, redisMaxmemoryMiB: 16, minReplicas: 2, maxReplicas: 4 },
  profile: profile(),
  rss: [],
  ...over,
});

const entry = (at: number, knob: string, from: number, to: number, outcome = 'Applied'): HistoryEntry => ({
  time: new Date(T0 + at * 1000).toISOString(),
  knob,
  from,
  to,
  outcome,
});

describe('checkSample', () => {
  it.each([
    ['a healthy sample', {}, []],
    ['PostgreSQL over its budget', { pgConnections: 91 }, ['postgres-connections']],
    ['PostgreSQL at its budget', { pgConnections: 90 }, []],
    [
      'a knob outside its bounds',
      { knobs: { poolSize: 51, maxOverflow: 0, redisMaxmemoryMiB: 16, minReplicas: 2, maxReplicas: 4 } },
      ['knob-bounds'],
    ],
    [
      'maxmemory over 0.75 of the container limit',
      { redis: [{ port: 7000, maxmemoryBytes: 97 * MIB }] },
      ['maxmemory-ceiling'],
    ],
    ['maxmemory unlimited (0)', { redis: [{ port: 7000, maxmemoryBytes: 0 }] }, ['maxmemory-ceiling']],
    ['an unreachable node', { redis: [{ port: 7000, maxmemoryBytes: null }] }, []],
  ] as [string, Partial<Sample>, string[]][])('%s', (_name, over, expected) => {
    expect(checkSample(sample(0, over), newCheckMemory()).map((b) => b.invariant)).toEqual(expected);
  });

  it('reports a breach once while it lasts, and again when it comes back', () => {
    const memory = newCheckMemory();
    const seen = [91, 92, 10, 95].map((n, i) => checkSample(sample(i, { pgConnections: n }), memory).length);
    expect(seen).toEqual([1, 0, 0, 1]);
  });

  it('lets nodes disagree on maxmemory for two evaluations and 10 s, not longer', () => {
    const memory = newCheckMemory();
    const split = [
      { port: 7000, maxmemoryBytes: 16 * MIB },
      { port: 7001, maxmemoryBytes: 24 * MIB },
    ];
    expect(checkSample(sample(0, { redis: split }), memory)).toEqual([]);
    expect(checkSample(sample(30, { redis: split }), memory)).toEqual([]);
    expect(checkSample(sample(31, { redis: split }), memory).map((b) => b.invariant)).toEqual([
      'maxmemory-agreement',
    ]);
  });
});

describe('majorityMaxmemoryMiB', () => {
  it.each([
    [[16, 16, 24], 16],
    [[16, 24], null],
    [[24, null, null], 24],
    [[null], null],
  ] as [(number | null)[], number | null][])('%j → %s', (mib, expected) => {
    const nodes = mib.map((m, i) => ({ port: i, maxmemoryBytes: m === null ? null : m * MIB }));
    expect(majorityMaxmemoryMiB(nodes)).toBe(expected);
  });
});

describe('accountChanges', () => {
  const changed = [sample(0), sample(1, { knobs: { ...sample(0).knobs, redisMaxmemoryMiB: 24 } })];
  const applied = {
    time: T0 + 1000,
    reason: 'Applied',
    note: 'redisMaxmemoryMiB 16 → 24 (set on 6 nodes): evictions',
    count: 1,
  };
  it.each([
    ['one change, one entry, one Event', changed, [entry(1, 'redisMaxmemoryMiB', 16, 24)], [applied], 0, 0],
    ['a change nobody recorded', changed, [], [], 1, 0],
    ['a record without its Event', changed, [entry(1, 'redisMaxmemoryMiB', 16, 24)], [], 1, 0],
    [
      'recorded twice',
      changed,
      [entry(1, 'redisMaxmemoryMiB', 16, 24), entry(2, 'redisMaxmemoryMiB', 16, 24)],
      [applied, applied],
      0,
      1,
    ],
    ['an Event twice', changed, [entry(1, 'redisMaxmemoryMiB', 16, 24)], [{ ...applied, count: 2 }], 0, 1],
    ['a record from before the observer started', [sample(0)], [entry(-5, 'poolSize', 5, 8)], [], 0, 0],
    [
      'an Event from before the observer started, for the same change made again',
      changed,
      [entry(-5, 'redisMaxmemoryMiB', 16, 24), entry(1, 'redisMaxmemoryMiB', 16, 24)],
      [{ ...applied, time: T0 - 5000 }, applied],
      0,
      0,
    ],
  ] as const)('%s', (_name, samples, history, events, lost, duplicated) => {
    const account = accountChanges(samples, history, events, T0);
    expect({ lost: account.lost, duplicated: account.duplicated }).toEqual({ lost, duplicated });
  });
});

describe('reversals', () => {
  it.each([
    ['up then down inside the window', [entry(0, 'poolSize', 5, 8), entry(30, 'poolSize', 8, 6)], 1],
    ['up then down after the window', [entry(0, 'poolSize', 5, 8), entry(61, 'poolSize', 8, 6)], 0],
    ['up twice', [entry(0, 'poolSize', 5, 8), entry(30, 'poolSize', 8, 10)], 0],
    ['a rollback', [entry(0, 'poolSize', 5, 8), entry(20, 'poolSize', 8, 5, 'RolledBack')], 0],
    ['two knobs', [entry(0, 'poolSize', 5, 8), entry(20, 'maxOverflow', 8, 5)], 0],
  ] as const)('%s', (_name, history, expected) => {
    expect(reversals(history, 60)).toHaveLength(expected);
  });
});

describe('splitFailedRequests', () => {
  const fault = { type: 'postgres-restart', start: T0 + 10_000, end: T0 + 15_000, detail: '' };
  it.each([
    ['inside the window', 12, 1, 0],
    ['inside the grace after it', 25, 1, 0],
    ['after the grace', 40, 0, 1],
    ['before the fault', 0, 0, 1],
  ] as const)('a failure %s', (_name, at, inside, outside) => {
    const slice = { from: T0 + at * 1000, to: T0 + (at + 5) * 1000 - 1, requests: 100, failed: 1 };
    if (at === 0) Object.assign(slice, { to: T0 + 4000 });
    const split = splitFailedRequests([slice], [fault], 15);
    expect([split.inFaultWindows, split.outsideFaultWindows]).toEqual([inside, outside]);
  });
});

describe('recoveryByType', () => {
  it('measures from the fault end to healthy and converged, and counts faults that never recovered', () => {
    const unhealthy = profile({ conditions: { Ready: 'True', MetricsAvailable: 'False' } });
    const samples = [
      sample(10, { profile: unhealthy }),
      sample(12, { profile: unhealthy }),
      sample(14),
      sample(20, { profile: unhealthy }),
    ];
    const faults = [
      { type: 'prometheus-stop', start: T0, end: T0 + 10_000, detail: '' },
      { type: 'prometheus-stop', start: T0 + 15_000, end: T0 + 20_000, detail: '' },
    ];
    expect(recoveryByType(samples, faults)).toEqual({
      'prometheus-stop': { faults: 2, medianSeconds: 4, maxSeconds: 4, notRecovered: 1 },
    });
  });

  it('gives a median of two recoveries to the hundredth of a second, as the report prints it', () => {
    // Recoveries of 0.6 s and 1.1 s: their float mean is 0.8500000000000001.
    const samples = [sample(10.6), sample(21.1)];
    const faults = [
      { type: 'postgres-restart', start: T0, end: T0 + 10_000, detail: '' },
      { type: 'postgres-restart', start: T0 + 15_000, end: T0 + 20_000, detail: '' },
    ];
    expect(recoveryByType(samples, faults)['postgres-restart']?.medianSeconds).toBe(0.85);
  });
});

describe('rssTrend', () => {
  it('fits the slope of the longest-lived process in MiB per hour', () => {
    const samples = [0, 1, 2, 3].map((i) =>
      sample(i * 60, { rss: [{ pid: 1, identity: 'a', bytes: (100 + i) * MIB }] }),
    );
    expect(rssTrend(samples)).toMatchObject({
      identity: 'a',
      startMiB: 100,
      endMiB: 103,
      slopeMiBPerHour: 60,
    });
  });
});
