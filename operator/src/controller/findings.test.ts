import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { hpaToleranceOfObject } from '../actuators/targets.ts';
import { API_VERSION, type Decision, KIND, KNOBS, type PerformanceProfile } from '../api/v1alpha1/index.ts';
import type { Measurement } from '../metrics/index.ts';
import { healthySnapshot } from '../tuning/test-fixtures.ts';
import { defaultedProfileSpec } from '../tuning/tuning-spec-from-profile.ts';
import {
  appliedChangesFromStatus,
  changeRecord,
  completeKnobs,
  measureOutcome,
  sloVerdict,
  snapshotStatus,
  targetEnvironment,
  unrecordedChanges,
  withChanges,
} from './findings.ts';

function profile(metrics: object): PerformanceProfile {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { namespace: 'shop', name: 'main' },
    spec: defaultedProfileSpec({ targetRef: { name: 'risk-api' }, metrics }),
  };
}

const withPrometheus = profile({ prometheus: { url: 'https://user:secret@prom.example:9090' } });
const measured = (m: Partial<Measurement>): Measurement => ({
  unknown: [],
  prometheus: {},
  takenAtSeconds: 0,
  ...m,
});

describe('measureOutcome', () => {
  it.each<[string, PerformanceProfile, Measurement | undefined, string, RegExp]>([
    ['no source', profile({}), undefined, 'Unknown/NoMetricsSource', /names neither Prometheus nor Redis/],
    [
      'a complete snapshot',
      withPrometheus,
      measured({ snapshot: healthySnapshot() }),
      'True/MetricsFresh',
      /every signal measured from Prometheus at https:\/\/prom\.example:9090/,
    ],
    [
      'a NaN signal: the cause, then the signal',
      withPrometheus,
      measured({
        unknown: [{ signal: 'p95LatencyMs', reason: 'nan', message: 'p95LatencyMs: the value is NaN' }],
      }),
      'False/MetricsUnavailable',
      /^value NaN: p95LatencyMs$/,
    ],
    [
      'a stale signal and an empty one',
      withPrometheus,
      measured({
        unknown: [
          { signal: 'requestsPerSecond', reason: 'stale', message: 'requestsPerSecond: 300 s old' },
          { signal: 'p95LatencyMs', reason: 'empty', message: 'p95LatencyMs: the query returned no series' },
        ],
      }),
      'False/MetricsStale',
      /^stale: requestsPerSecond; no series: p95LatencyMs$/,
    ],
    [
      'Prometheus unreachable, the URL without its credentials',
      withPrometheus,
      measured({
        unknown: ['requestsPerSecond', 'p95LatencyMs'].map((signal) => ({
          signal,
          reason: 'unanswered',
          message: `${signal}: Prometheus at https://prom.example:9090 is unreachable: ECONNREFUSED`,
        })),
      }),
      'False/MetricsUnavailable',
      /^Prometheus at https:\/\/prom\.example:9090 unreachable \(ECONNREFUSED\): requestsPerSecond, p95LatencyMs$/,
    ],
  ])('%s → %s', (_name, p, m, want, message) => {
    const outcome = measureOutcome(p, m);
    expect(`${outcome.status}/${outcome.reason}`).toBe(want);
    expect(outcome.message).toMatch(message);
    expect(outcome.message).not.toContain('secret');
    expect(outcome.detail ?? '').not.toContain('secret');
  });

  it('leaves each signal to the Event and the log, and names the Prometheus there', () => {
    const unknown = [
      { signal: 'p95LatencyMs', reason: 'nan', message: 'p95LatencyMs: the value is NaN' },
    ] as const;
    const twoSeeds = profile({
      prometheus: { url: 'https://user:secret@prom.example:9090' },
      redis: { endpoints: ['redis-0:6379', 'redis-1:6379'] },
    });
    const outcome = measureOutcome(twoSeeds, measured({ unknown }));
    expect(outcome.detail).toBe(
      'value NaN: p95LatencyMs; nothing changes until every signal is measured (Prometheus at https://prom.example:9090)',
    );
    expect(outcome.unknown).toEqual(['p95LatencyMs: the value is NaN']);
  });
});

describe('sloVerdict', () => {
  it.each<[string, Measurement['prometheus'], boolean | undefined, RegExp]>([
    [
      'every SLO held',
      { p95LatencyMs: 80, errorRatePercent: 0.05, poolUsagePercent: 40 },
      true,
      /^met: p95 80 ms/,
    ],
    [
      'pool usage above its SLO',
      { p95LatencyMs: 80, poolUsagePercent: 90 },
      false,
      /^violated: pool usage 90 % \(objective ≤ 80 %\)$/,
    ],
    ['a low hit rate', { cacheHitRatePercent: 40.123 }, false, /cache hit rate 40.12 % \(objective ≥ 85 %\)/],
  ])('%s', (_name, prometheus, met, message) => {
    const verdict = sloVerdict(withPrometheus, measured({ snapshot: healthySnapshot(), prometheus }));
    expect(verdict?.met).toBe(met);
    expect(verdict?.message).toMatch(message);
  });

  it('judges nothing without a snapshot', () => {
    expect(sloVerdict(withPrometheus, measured({ prometheus: { poolUsagePercent: 99 } }))).toBeUndefined();
  });
});

describe('completeKnobs', () => {
  it.each([
    [
      {
        poolSize: 5,
        maxOverflow: 0,
        minReplicas: 2,
        maxReplicas: 4,
        redisMaxmemoryMiB: 64,
        hpaTargetCpuPercent: 70,
        hpaTargetRequestsPerPod: 0,
      },
      [],
    ],
    [
      {
        poolSize: 5,
        maxOverflow: 0,
        minReplicas: 2,
        maxReplicas: 4,
        hpaTargetCpuPercent: 70,
        hpaTargetRequestsPerPod: 0,
      },
      ['redisMaxmemoryMiB'],
    ],
    [{}, KNOBS],
  ])('%o misses %o', (current, missing) => {
    const result = completeKnobs(current);
    expect('missing' in result ? result.missing : []).toEqual(missing);
  });
});

describe('targetEnvironment', () => {
  it.each([
    ['the toolkit’s values without objects', undefined, 4],
    ['ASYNC_WORKERS', { data: { ASYNC_WORKERS: '8' } }, 8],
    ['an unreadable ASYNC_WORKERS', { data: { ASYNC_WORKERS: 'many' } }, 4],
  ])('%s', (_name, configMap, workers) => {
    expect(targetEnvironment(configMap).workersPerReplica).toBe(workers);
  });

  const hpa = (behavior: object): V2HorizontalPodAutoscaler => ({
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' }, maxReplicas: 10, behavior },
  });
  it.each<[string, object, object | undefined]>([
    ['no behavior: the cluster default, not named', {}, undefined],
    [
      '2 % down as the API server writes it',
      { scaleDown: { tolerance: '20m' } },
      { scaleUp: 0.1, scaleDown: 0.02 },
    ],
    [
      'both directions, one as a decimal',
      { scaleUp: { tolerance: '0.05' }, scaleDown: { tolerance: '0' } },
      { scaleUp: 0.05, scaleDown: 0 },
    ],
    ['an unreadable tolerance is left to the default', { scaleDown: { tolerance: 'lots' } }, undefined],
    ['a negative tolerance is left to the default', { scaleUp: { tolerance: '-100m' } }, undefined],
  ])("the HPA's tolerance per direction: %s", (_name, behavior, tolerance) => {
    expect(hpaToleranceOfObject(hpa(behavior))).toEqual(tolerance);
    expect(targetEnvironment(undefined, hpa(behavior)).hpaTolerance).toEqual(tolerance);
  });
});

describe('appliedChangesFromStatus', () => {
  const entry = (outcome: Decision['outcome'], time = '2026-12-01T12:00:00Z'): Decision => ({
    time,
    knob: 'poolSize',
    from: 5,
    to: 7,
    outcome,
    reason: 'r',
    sloMetBefore: true,
    snapshot: { time, stale: false, requestsPerSecond: 500 },
  });
  it.each([
    ['an applied change', entry('Applied'), [{ rollback: false, requestsPerSecondBefore: 500 }]],
    ['a rollback', entry('RolledBack'), [{ rollback: true }]],
    ['a recommendation, which changed nothing', entry('Recommended'), []],
    ['a blocked decision', entry('Blocked'), []],
    ['an unreadable time', entry('Applied', 'yesterday'), []],
  ])('%s', (_name, decision, want) => {
    const changes = appliedChangesFromStatus([decision]);
    expect(changes).toHaveLength(want.length);
    if (want[0]) {
      expect(changes[0]).toMatchObject({ knob: 'poolSize', from: 5, to: 7, sloMetBefore: true, ...want[0] });
      expect(changes[0]?.atSeconds).toBe(Date.parse('2026-12-01T12:00:00Z') / 1000);
    }
  });
});

describe('unrecordedChanges: changes whose records the target holds and status history does not', () => {
  const at = (minute: number) => `2026-12-01T12:${String(minute).padStart(2, '0')}:00.000Z`;
  const change = (
    knob: Decision['knob'],
    minute: number,
    outcome: Decision['outcome'] = 'Applied',
  ): Decision => ({
    time: at(minute),
    knob,
    from: 5,
    to: 7,
    outcome,
    reason: 'r',
  });
  const owner = (history: Decision[] = []): PerformanceProfile => ({
    ...withPrometheus,
    metadata: { ...withPrometheus.metadata, uid: 'uid-now' },
    ...(history.length > 0 ? { status: { history } } : {}),
  });
  const record = (changes: Decision[], uid = 'uid-now') =>
    changeRecord({ ...withPrometheus, metadata: { uid } }, changes);
  it.each<{ name: string; history: Decision[]; records: (string | undefined)[]; want: string[] }>([
    {
      name: 'a change applied after the last entry',
      history: [change('poolSize', 1)],
      records: [record([change('maxReplicas', 2)])],
      want: ['maxReplicas 12:02'],
    },
    {
      name: 'a change history holds',
      history: [change('maxReplicas', 2)],
      records: [record([change('maxReplicas', 2)])],
      want: [],
    },
    {
      name: 'a change older than the newest entry (recorded, then left the bounded history)',
      history: [change('poolSize', 5)],
      records: [record([change('maxReplicas', 2)])],
      want: [],
    },
    {
      name: 'the pool’s record on the ConfigMap and on the Deployment, once, oldest first',
      history: [],
      records: [
        record([change('poolSize', 3), change('maxOverflow', 3)]),
        record([change('poolSize', 3), change('maxOverflow', 3)]),
        record([change('minReplicas', 1)]),
      ],
      want: ['minReplicas 12:01', 'poolSize 12:03', 'maxOverflow 12:03'],
    },
    {
      name: 'a record of another profile (deleted, created again)',
      history: [],
      records: [record([change('poolSize', 3)], 'uid-before')],
      want: [],
    },
    {
      name: 'no record, or one that is not JSON',
      history: [],
      records: [undefined, '{', '[]', 'null'],
      want: [],
    },
    {
      name: 'entries that are no applied change',
      history: [],
      records: [
        record([change('poolSize', 3, 'Recommended'), { ...change('maxOverflow', 3), time: 'soon' }]),
      ],
      want: [],
    },
  ])('$name', ({ history, records, want }) => {
    const found = unrecordedChanges(owner(history), records);
    expect(found.map((d) => `${d.knob} ${d.time.slice(11, 16)}`)).toEqual(want);
  });

  it('adds recovered changes to the engine’s once', () => {
    const known = appliedChangesFromStatus([change('poolSize', 1)]);
    const merged = withChanges(known, [change('poolSize', 1), change('maxReplicas', 2)]);
    expect(merged.map((c) => c.knob)).toEqual(['poolSize', 'maxReplicas']);
  });
});

describe('snapshotStatus: the signals a profile has, with or without the engine’s snapshot', () => {
  const time = new Date('2026-12-01T12:00:00Z');
  it.each<{ name: string; measurement: Measurement; want: Record<string, unknown> }>([
    {
      name: 'no Redis source: latency, pool and replicas still shown',
      measurement: measured({
        prometheus: { p95LatencyMs: 95.12345, poolUsagePercent: 40, requestsPerSecond: 800 },
        readyReplicas: 3,
        unknown: [
          { signal: 'redis', reason: 'not_queried', message: 'redis: spec.metrics.redis is not set' },
        ],
      }),
      want: {
        p95LatencyMs: 95.123,
        poolUsagePercent: 40,
        requestsPerSecond: 800,
        readyReplicas: 3,
        stale: false,
      },
    },
    {
      name: 'a stale signal: the rest shown, marked stale',
      measurement: measured({
        prometheus: { p95LatencyMs: 80 },
        readyReplicas: 2,
        unknown: [{ signal: 'dbActiveConnections', reason: 'stale', message: 'old' }],
      }),
      want: { p95LatencyMs: 80, readyReplicas: 2, stale: true },
    },
    {
      name: 'Redis through redis_exporter (no INFO read): used memory and evictions from its series',
      measurement: measured({
        prometheus: {
          p95LatencyMs: 80,
          redisUsedMemoryBytes: 100 * 1024 * 1024,
          redisEvictedKeysPerSecond: 2.5,
        },
      }),
      want: { p95LatencyMs: 80, redisUsedMemoryMiB: 100, redisEvictedKeysPerSecond: 2.5, stale: false },
    },
    {
      name: 'Redis from INFO: its signals, not the exporter’s',
      measurement: measured({
        prometheus: { redisUsedMemoryBytes: 1 },
        redis: {
          masters: 1,
          replicas: 0,
          unknown: [],
          signals: {
            usedMemoryBytes: 64 * 1024 * 1024,
            maxMemoryBytes: 128 * 1024 * 1024,
            hitsPerSecond: 1,
            missesPerSecond: 0,
            evictedKeysPerSecond: 0,
            expiredKeysPerSecond: 0,
          },
        },
      }),
      want: { redisUsedMemoryMiB: 64, redisEvictedKeysPerSecond: 0, stale: false },
    },
    {
      name: 'no HPA replicas: none shown, never zero',
      measurement: measured({ prometheus: { p95LatencyMs: 80 } }),
      want: { p95LatencyMs: 80, stale: false },
    },
  ])('$name', ({ measurement, want }) => {
    expect(snapshotStatus(measurement, time)).toEqual({ time: time.toISOString(), ...want });
  });
});
