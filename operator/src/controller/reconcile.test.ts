/**
 * reconcileProfile through its injected context: each mode against each outcome of the measure
 * and act steps, what status, Events and actuator calls come of it, and a restart that must not
 * apply a change twice. The engine and the safety gate are the real ones.
 */
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { PoolSettingsResult, RedisMaxMemoryResult, ReplicaBoundsResult } from '../actuators/index.ts';
import { SecretKeyMissingError } from '../actuators/secrets.ts';
import {
  API_VERSION,
  type Decision,
  FINALIZER,
  KIND,
  LAST_CHANGE_ANNOTATION,
  type Mode,
  ORIGINAL_VALUES_ANNOTATION,
  type PerformanceProfile,
  type PerformanceProfileStatus,
} from '../api/v1alpha1/index.ts';
import type { Measurement } from '../metrics/index.ts';
import { createLogger } from '../telemetry/logger.ts';
import { healthySnapshot } from '../tuning/test-fixtures.ts';
import { defaultedProfileSpec } from '../tuning/tuning-spec-from-profile.ts';
import type { KnobActuators } from './act.ts';
import { PermanentError } from './error-policy.ts';
import type { ProfileEvent } from './events.ts';
import { classifyingSecretReader } from './make-reconcile-context.ts';
import { reconcileProfile } from './reconcile.ts';
import type { Observation, ReconcileContext } from './reconcile-context.ts';

const NOW = new Date('2026-12-01T12:00:00Z');
const nowSeconds = NOW.getTime() / 1000;
const URL = 'http://prometheus.test:9090';
/**
 * The target's knobs before the operator: the seed's pool and memory, with a floor of 4 replicas
 * that the load (2,000 rps, 3 at the engine's prior capacity) does not need, so the first
 * reconcile changes the pool and the replica bounds: the engine lowers a floor on its prior
 * capacity, and raises one only on a measured one.
 */
const ORIGINAL = { poolSize: 20, maxOverflow: 30, minReplicas: 4, maxReplicas: 10, redisMaxmemoryMiB: 512 };
const MIB = 1024 * 1024;

function profileOf(mode: Mode, status?: PerformanceProfileStatus, paused = false): PerformanceProfile {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      namespace: 'shop',
      name: 'main',
      uid: '6f1c2a4e-profile-main',
      generation: 1,
      resourceVersion: '7',
      finalizers: [FINALIZER],
      annotations: {
        [ORIGINAL_VALUES_ANNOTATION]: JSON.stringify(ORIGINAL),
        ...(paused ? { 'perfpilot.dev/paused': 'true' } : {}),
      },
    },
    spec: defaultedProfileSpec({
      targetRef: { name: 'risk-api' },
      mode,
      metrics: {
        prometheus: { url: URL },
        redis: { endpoints: ['redis-0:6379'], passwordSecretRef: { name: 'redis-auth' } },
      },
    }),
    ...(status ? { status } : {}),
  };
}

// Evictions are 0.5 % of lookups: below the 1 % the engine grows memory for, so these tests'
// changes are the pool's and the replica bounds' (the memory policy has its own tables).
const healthyRedis = { evictedKeysPerSecond: 10 };

const healthy: Measurement = {
  snapshot: healthySnapshot(nowSeconds, { redis: healthyRedis }),
  unknown: [],
  prometheus: { requestsPerSecond: 2000, p95LatencyMs: 80, errorRatePercent: 0, poolUsagePercent: 40 },
  redis: {
    masters: 3,
    replicas: 3,
    unknown: [],
    signals: healthySnapshot(nowSeconds, { redis: healthyRedis }).redis,
  },
  takenAtSeconds: nowSeconds,
};

const nanSignal: Measurement = {
  unknown: [{ signal: 'p95LatencyMs', reason: 'nan', message: 'p95LatencyMs: the value is NaN' }],
  prometheus: { requestsPerSecond: 2000 },
  takenAtSeconds: nowSeconds,
};

const redisObserved = {
  nodes: [{ address: 'redis-0:6379', role: 'master' as const, bytes: 512 * MIB }],
  failed: [],
  divergent: false,
  maxMemoryMiB: 512,
};

/** What a fake context recorded. */
interface Recorded {
  statuses: PerformanceProfileStatus[];
  events: ProfileEvent[];
  calls: string[];
  /** records are the change records each actuator call carried (LAST_CHANGE_ANNOTATION). */
  records: (string | undefined)[];
}

/** A context whose I/O is scripted: the observation, the measurement and each actuator's answer. */
class ContextBuilder {
  profile: PerformanceProfile = profileOf('Auto');
  measurement: Measurement = healthy;
  knobs: Observation['current'] = { ...ORIGINAL };
  pool: (settings: { poolSize: number; maxOverflow: number }) => PoolSettingsResult = (settings) => ({
    kind: 'applied',
    before: { poolSize: 20, maxOverflow: 30 },
    after: settings,
    configHash: 'abc',
    rolledAt: NOW,
    changed: ['ConfigMap shop/risk-api-tuning', 'Deployment shop/risk-api'],
  });
  bounds: (b: { minReplicas: number; maxReplicas: number }) => ReplicaBoundsResult = (b) => ({
    kind: 'applied',
    object: 'HorizontalPodAutoscaler shop/risk-api',
    before: { minReplicas: 4, maxReplicas: 10 },
    after: b,
  });
  redis: (mib: number) => RedisMaxMemoryResult = (mib) => ({
    kind: 'converged',
    requestedMiB: mib,
    bytes: mib * MIB,
    nodes: [{ address: 'redis-0:6379', role: 'master', beforeBytes: 512 * MIB, changed: true }],
    failed: [],
    persisted: { kind: 'applied', object: 'ConfigMap shop/redis' },
  });
  redisObservation = redisObserved as Observation['redis'];
  histories = new Map();
  unreported = new Map();
  /** objects are the target's objects as observed (their annotations hold change records). */
  objects: Partial<Observation> = {};
  /** writeStatus answers each status write; the default stores it. */
  writeStatus: (status: PerformanceProfileStatus) => void = () => {};

  with(change: (b: this) => void): this {
    change(this);
    return this;
  }

  build(): { ctx: ReconcileContext; recorded: Recorded } {
    const recorded: Recorded = { statuses: [], events: [], calls: [], records: [] };
    const actuators: KnobActuators = {
      poolSettings: async (_p, settings, _guard, record) => {
        recorded.calls.push(`pool ${settings.poolSize}+${settings.maxOverflow}`);
        recorded.records.push(record);
        return this.pool(settings);
      },
      replicaBounds: async (_p, b, record) => {
        const cpu = b.cpuUtilizationPercent === undefined ? '' : ` cpu ${b.cpuUtilizationPercent}`;
        const rate = b.requestRate === undefined ? '' : ` rate ${b.requestRate.perPod}`;
        recorded.calls.push(`bounds ${b.minReplicas}-${b.maxReplicas}${cpu}${rate}`);
        recorded.records.push(record);
        return this.bounds(b);
      },
      redisMaxMemory: async (_p, mib, _tuning, record) => {
        recorded.calls.push(`maxmemory ${mib}`);
        recorded.records.push(record);
        return this.redis(mib);
      },
      restore: async () => {
        recorded.calls.push('restore');
        return [];
      },
    };
    const ctx: ReconcileContext = {
      profile: () => this.profile,
      store: {
        get: async () => this.profile,
        patchMetadata: async (p) => p,
        writeStatus: async (_p, status) => {
          this.writeStatus(status);
          recorded.statuses.push(status);
        },
      },
      observe: async () => ({
        missing: [],
        problems: [],
        current: { ...this.knobs },
        ...(this.redisObservation ? { redis: this.redisObservation } : {}),
        ...this.objects,
      }),
      measure: async () => this.measurement,
      rebuildHistory: async () => ({ snapshots: [], unknown: [], rejectedPoints: 0 }),
      actuators,
      histories: this.histories,
      unreported: this.unreported,
      events: { record: async (_p, event) => void recorded.events.push(event) },
      logger: createLogger({ level: 'silent' }),
      now: () => NOW,
    };
    return { ctx, recorded };
  }
}

const condition = (status: PerformanceProfileStatus | undefined, type: string) =>
  status?.conditions?.find((c) => c.type === type);

async function run(builder: ContextBuilder) {
  const { ctx, recorded } = builder.build();
  const outcome = await reconcileProfile(ctx, 'shop/main');
  return { outcome, recorded, status: recorded.statuses.at(-1), ctx };
}

describe('reconcileProfile: mode × measurement', () => {
  it.each<{
    name: string;
    mode: Mode;
    paused?: boolean;
    measurement: Measurement;
    calls: string[];
    metrics: string;
    recommended: boolean;
    history: number;
    events: string[];
  }>([
    {
      name: 'Observe with a snapshot: snapshot in status only',
      mode: 'Observe',
      measurement: healthy,
      calls: [],
      metrics: 'True/MetricsFresh',
      recommended: false,
      history: 0,
      events: [],
    },
    {
      name: 'Recommend with a snapshot: recommendations and an Event, nothing applied',
      mode: 'Recommend',
      measurement: healthy,
      calls: [],
      metrics: 'True/MetricsFresh',
      recommended: true,
      history: 0,
      events: ['Recommended'],
    },
    {
      name: 'Auto with a snapshot: the gated changes applied, each with an Event',
      mode: 'Auto',
      measurement: healthy,
      calls: ['bounds 3-10', 'pool 7+2'],
      metrics: 'True/MetricsFresh',
      recommended: true,
      history: 3,
      events: ['Applied', 'Applied', 'Applied'],
    },
    {
      name: 'Auto while paused: nothing applied',
      mode: 'Auto',
      paused: true,
      measurement: healthy,
      calls: [],
      metrics: 'True/MetricsFresh',
      recommended: false,
      history: 0,
      events: [],
    },
    {
      name: 'Auto with a NaN signal: fail static',
      mode: 'Auto',
      measurement: nanSignal,
      calls: [],
      metrics: 'False/MetricsUnavailable',
      recommended: false,
      history: 0,
      events: ['MetricsUnavailable'],
    },
    {
      name: 'Recommend with a NaN signal: nothing recommended',
      mode: 'Recommend',
      measurement: nanSignal,
      calls: [],
      metrics: 'False/MetricsUnavailable',
      recommended: false,
      history: 0,
      events: ['MetricsUnavailable'],
    },
  ])('$name', async ({ mode, paused, measurement, calls, metrics, recommended, history, events }) => {
    const { recorded, status, outcome } = await run(
      new ContextBuilder().with((b) => {
        b.profile = profileOf(mode, undefined, paused);
        b.measurement = measurement;
      }),
    );
    expect(recorded.calls).toEqual(calls);
    const m = condition(status, 'MetricsAvailable');
    expect(`${m?.status}/${m?.reason}`).toBe(metrics);
    expect(status?.recommended !== undefined).toBe(recommended);
    expect(status?.history ?? []).toHaveLength(history);
    expect(recorded.events.map((e) => e.reason)).toEqual(events);
    expect(status?.lastSnapshot?.requestsPerSecond).toBe(2000);
    expect(outcome.requeueAfterMs).toBe(60_000);
  });

  it('names the cause and the signal, the Event the Prometheus URL, and never counts it as zero', async () => {
    const { status, recorded } = await run(new ContextBuilder().with((b) => (b.measurement = nanSignal)));
    expect(condition(status, 'MetricsAvailable')?.message).toBe('value NaN: p95LatencyMs');
    const event = recorded.events.find((e) => e.reason === 'MetricsUnavailable');
    expect(event?.type).toBe('Warning');
    expect(event?.note).toMatch(/^MetricsAvailable=False: value NaN: p95LatencyMs; nothing changes/);
    expect(event?.note).toContain(`Prometheus at ${URL}`);
    expect(status?.lastSnapshot?.p95LatencyMs).toBeUndefined();
    expect(condition(status, 'SLOMet')?.status).toBe('Unknown');
  });

  it('records each applied change with reason, from, to and the snapshot it was based on', async () => {
    const { status, recorded } = await run(new ContextBuilder());
    const pool = status?.history?.find((d) => d.knob === 'poolSize');
    expect(pool).toMatchObject({ from: 20, to: 7, outcome: 'Applied', time: NOW.toISOString() });
    expect(pool?.reason).toMatch(/Erlang-C/);
    expect(pool?.snapshot?.requestsPerSecond).toBe(2000);
    expect(status?.current).toMatchObject({ poolSize: 7, maxOverflow: 2, minReplicas: 3 });
    expect(status?.lastDecision).toMatch(/^Applied /);
    expect(condition(status, 'Progressing')).toMatchObject({ status: 'True', reason: 'Verifying' });
    expect(recorded.events.find((e) => e.note.startsWith('poolSize 20 → 7'))?.note).toContain('pods rolled');
  });
});

describe('reconcileProfile: without a metric source', () => {
  it('measures nothing and writes status once: a second reconcile finds it unchanged', async () => {
    const builder = new ContextBuilder().with((b) => {
      b.profile = profileOf('Recommend');
      b.profile.spec.metrics = {};
      b.redisObservation = undefined;
    });
    let measured = 0;
    const { ctx, recorded } = builder.build();
    const counting = {
      ...ctx,
      measure: async () => {
        measured++;
        return builder.measurement;
      },
    };
    await reconcileProfile(counting, 'shop/main');
    expect(measured).toBe(0);
    expect(recorded.statuses).toHaveLength(1);
    expect(recorded.statuses[0]?.lastSnapshot).toBeUndefined();
    const m = condition(recorded.statuses[0], 'MetricsAvailable');
    expect(`${m?.status}/${m?.reason}`).toBe('Unknown/NoMetricsSource');
    builder.profile = { ...builder.profile, status: recorded.statuses[0] };
    await reconcileProfile({ ...counting, now: () => new Date(NOW.getTime() + 60_000) }, 'shop/main');
    expect(recorded.statuses).toHaveLength(1);
  });
});

describe('reconcileProfile: take-over', () => {
  it.each<{ mode: Mode; patched: boolean; events: string[] }>([
    // The NaN signal keeps the engine from acting; its Warning is the only other Event.
    { mode: 'Observe', patched: false, events: ['MetricsUnavailable'] },
    { mode: 'Recommend', patched: false, events: ['MetricsUnavailable'] },
    { mode: 'Auto', patched: true, events: ['TookOver', 'MetricsUnavailable'] },
  ])(
    'a new $mode profile: finalizer and original knobs recorded: $patched',
    async ({ mode, patched, events }) => {
      const builder = new ContextBuilder().with((b) => {
        b.profile = profileOf(mode);
        b.profile.metadata.finalizers = [];
        b.profile.metadata.annotations = {};
        b.measurement = nanSignal;
      });
      const { ctx, recorded } = builder.build();
      const patches: unknown[] = [];
      const store = {
        ...ctx.store,
        patchMetadata: async (p: PerformanceProfile, m: unknown) => {
          patches.push(m);
          return p;
        },
      };
      await reconcileProfile({ ...ctx, store }, 'shop/main');
      expect(patches).toHaveLength(patched ? 1 : 0);
      expect(recorded.events.map((e) => e.reason)).toEqual(events);
      expect(recorded.statuses).toHaveLength(1);
    },
  );
});

describe('reconcileProfile: actuator results', () => {
  it.each<{
    name: string;
    change: (b: ContextBuilder) => void;
    type: string;
    status: string;
    message: RegExp;
    event?: string;
  }>([
    {
      name: 'a field owned by another manager is Degraded, naming manager and field, nothing forced',
      change: (b) => {
        b.pool = () => ({
          kind: 'conflict',
          before: {},
          object: 'ConfigMap shop/risk-api-tuning',
          conflicts: [{ manager: 'argocd-controller', field: '.data.DB_POOL_SIZE' }],
          message: 'Apply failed with 1 conflict',
          configMapWritten: false,
        });
      },
      type: 'Degraded',
      status: 'True/FieldConflict',
      message:
        /ConfigMap shop\/risk-api-tuning: \.data\.DB_POOL_SIZE owned by "argocd-controller"; nothing was forced/,
      event: 'FieldConflict',
    },
    {
      name: 'a roll within the cooldown is Progressing with its notBefore',
      change: (b) => {
        b.pool = () => ({ kind: 'deferred', before: {}, notBefore: new Date('2026-12-01T12:07:00Z') });
      },
      type: 'Progressing',
      status: 'True/RolloutDeferred',
      message: /not before 2026-12-01T12:07:00\.000Z/,
    },
    {
      name: 'Redis set on some nodes only is Degraded, naming the node',
      change: (b) => {
        b.knobs = {
          ...ORIGINAL,
          poolSize: 7,
          maxOverflow: 2,
          minReplicas: 3,
          maxReplicas: 10,
          redisMaxmemoryMiB: 128,
        };
        b.measurement = {
          ...healthy,
          snapshot: healthySnapshot(nowSeconds, {
            redis: {
              maxMemoryBytes: 128 * MIB,
              usedMemoryBytes: 128 * MIB,
              hitsPerSecond: 1000,
              missesPerSecond: 1000,
              evictedKeysPerSecond: 900,
              expiredKeysPerSecond: 10,
            },
          }),
        };
        b.redisObservation = { ...redisObserved, maxMemoryMiB: 128 };
        b.redis = (mib) => ({
          kind: 'partial',
          requestedMiB: mib,
          bytes: mib * MIB,
          nodes: [{ address: 'redis-0:6379', role: 'master', beforeBytes: 128 * MIB, changed: true }],
          failed: [{ address: 'redis-1:6379', role: 'master', error: 'redis-1:6379: not connected' }],
          persisted: { kind: 'applied', object: 'ConfigMap shop/redis' },
        });
      },
      type: 'Degraded',
      status: 'True/RedisNotConverged',
      message: /not set on redis-1:6379 \(master\): redis-1:6379: not connected/,
      event: 'RedisNotConverged',
    },
  ])('$name', async ({ change, type, status: want, message, event }) => {
    const { status, recorded } = await run(new ContextBuilder().with(change));
    const c = condition(status, type);
    expect(`${c?.status}/${c?.reason}`).toBe(want);
    expect(c?.message).toMatch(message);
    if (event) expect(recorded.events.map((e) => e.reason)).toContain(event);
  });

  it('converges a node that missed the last maxmemory before deciding, with an Event', async () => {
    const applied = {
      time: '2026-12-01T11:00:00Z',
      knob: 'redisMaxmemoryMiB' as const,
      from: 128,
      to: 192,
      outcome: 'Applied' as const,
      reason: 'evictions',
    };
    const { recorded, status } = await run(
      new ContextBuilder().with((b) => {
        b.profile = profileOf('Auto', { history: [applied] });
        b.measurement = nanSignal;
        b.redisObservation = {
          nodes: [
            { address: 'redis-0:6379', role: 'master', bytes: 192 * MIB },
            { address: 'redis-1:6379', role: 'master', bytes: 128 * MIB },
          ],
          failed: [],
          divergent: true,
        };
      }),
    );
    expect(recorded.calls).toEqual(['maxmemory 192']);
    expect(recorded.events.map((e) => e.reason)).toContain('Converged');
    expect(status?.current?.redisMaxmemoryMiB).toBe(192);
  });
});

describe('reconcileProfile: a restart', () => {
  it('applies nothing twice: the new process counts its cooldowns from status history', async () => {
    const first = await run(new ContextBuilder());
    expect(first.recorded.calls.length).toBeGreaterThan(0);
    // A new process: no history in memory; the profile as the first one left it; the knobs as applied.
    const restarted = await run(
      new ContextBuilder().with((b) => {
        b.profile = profileOf('Auto', first.status);
        b.knobs = { ...ORIGINAL, poolSize: 7, maxOverflow: 2, minReplicas: 3 };
        b.histories = new Map();
      }),
    );
    const again = restarted.recorded.calls.filter((c) => c.startsWith('pool') || c.startsWith('bounds 3'));
    expect(again).toEqual([]);
    expect(restarted.status?.history ?? first.status?.history).toHaveLength(3);
  });

  it('keeps the engine history in memory between reconciles of one process', async () => {
    const builder = new ContextBuilder();
    const { ctx } = builder.build();
    await reconcileProfile(ctx, 'shop/main');
    expect(
      ctx.histories
        .get('shop/main')
        ?.changes.map((c) => c.knob)
        .sort(),
    ).toEqual(['maxOverflow', 'minReplicas', 'poolSize']);
    expect(ctx.histories.get('shop/main')?.snapshots).toHaveLength(1);
  });
});

describe('reconcileProfile: the HPA CPU target', () => {
  // 100 minutes of 2,000 rps with CPU swept over 40..89 % and p95 80 ms: the pods met the SLO up
  // to 89 %, with p95 within half of it, so the rule asks for 94 % and the bounds give 85.
  const measured = Array.from({ length: 100 }, (_, i) =>
    healthySnapshot(nowSeconds - 60 * (100 - i), {
      cpuUtilization: 0.4 + (i % 50) / 100,
      redis: healthyRedis,
    }),
  );
  const withTarget = (hpaTarget: object | undefined) => (b: ContextBuilder) => {
    const { spec } = b.profile;
    b.profile = {
      ...b.profile,
      spec: defaultedProfileSpec({ ...spec, knobs: { ...spec.knobs, ...(hpaTarget ? { hpaTarget } : {}) } }),
    };
    b.knobs = { ...ORIGINAL, hpaTargetCpuPercent: 70 };
    b.histories.set('shop/main', { changes: [], snapshots: measured });
  };

  it('with spec.knobs.hpaTarget, applies a hotter target with the bounds, in one apply of the HPA', async () => {
    const { recorded, status } = await run(new ContextBuilder().with(withTarget({})));
    expect(recorded.calls.filter((c) => c.startsWith('bounds'))).toEqual([expect.stringMatching(/ cpu 85$/)]);
    expect(status?.history?.find((d) => d.knob === 'hpaTargetCpuPercent')).toMatchObject({
      from: 70,
      to: 85,
      outcome: 'Applied',
    });
    expect(recorded.events.map((e) => e.note)).toContainEqual(
      expect.stringMatching(
        /^hpaTargetCpuPercent 70 → 85 .*pods met p95 within 90 % of 200 ms up to 89 % CPU/,
      ),
    );
  });

  it('without it, holds the target and writes no metrics', async () => {
    const { recorded, status } = await run(new ContextBuilder().with(withTarget(undefined)));
    expect(recorded.calls.some((c) => c.includes('cpu'))).toBe(false);
    expect(status?.history?.some((d) => d.knob === 'hpaTargetCpuPercent')).toBe(false);
  });
});

describe('reconcileProfile: the HPA request-rate target', () => {
  const metricName = 'http_requests_per_second';
  // 100 minutes on 3 pods with the load swept over 1,200..2,190 rps (400..730 a pod), p95 80 ms:
  // the pods met the SLO at every rate, so the rule raises the target from the user's 400.
  const measured = Array.from({ length: 100 }, (_, i) =>
    healthySnapshot(nowSeconds - 60 * (100 - i), {
      requestsPerSecond: 1200 + (i % 34) * 30,
      redis: healthyRedis,
    }),
  );
  /** The user's HPA as the HPA controller last read it: `perPod` a pod of the metric, on 3 pods. */
  const hpaReading = (perPod: string) => ({
    metadata: { name: 'risk-api' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'risk-api' },
      maxReplicas: 10,
      metrics: [
        {
          type: 'Pods',
          pods: { metric: { name: metricName }, target: { type: 'AverageValue', averageValue: '400' } },
        },
      ],
    },
    status: {
      currentReplicas: 3,
      desiredReplicas: 3,
      currentMetrics: [
        { type: 'Pods', pods: { metric: { name: metricName }, current: { averageValue: perPod } } },
      ],
    },
  });
  const withRateTarget = (perPod: string) => (b: ContextBuilder) => {
    const { spec } = b.profile;
    b.profile = {
      ...b.profile,
      spec: defaultedProfileSpec({
        ...spec,
        knobs: { ...spec.knobs, hpaTarget: { requestRate: { metricName, minPerPod: 200, maxPerPod: 1200 } } },
      }),
    };
    b.knobs = { ...ORIGINAL, hpaTargetCpuPercent: 70, hpaTargetRequestsPerPod: 400 };
    b.objects = { hpa: hpaReading(perPod) as Observation['hpa'] };
    b.histories.set('shop/main', { changes: [], snapshots: measured });
  };

  it('raises the target where the HPA’s metric counts the requests the profile measures', async () => {
    // The profile measures 2,000 requests/s on 3 ready pods (667 a pod); the HPA reads 650.
    const { recorded } = await run(new ContextBuilder().with(withRateTarget('650')));
    const rate = recorded.calls.find((c) => c.startsWith('bounds'))?.match(/ rate (\d+)$/)?.[1];
    expect(Number(rate)).toBeGreaterThan(400);
  });

  it('moves only the rate target on an HPA with a CPU target too, where the CPU bounds pin it', async () => {
    // The guide's way to tune the rate alone: both CPU bounds at the HPA's own 70 %.
    const pinned = (b: ContextBuilder) => {
      withRateTarget('650')(b);
      const { spec } = b.profile;
      const hpa = hpaReading('650');
      b.profile = {
        ...b.profile,
        spec: defaultedProfileSpec({
          ...spec,
          knobs: {
            ...spec.knobs,
            hpaTarget: {
              cpuUtilization: { minPercent: 70, maxPercent: 70 },
              requestRate: { metricName, minPerPod: 200, maxPerPod: 1200 },
            },
          },
        }),
      };
      const cpu = {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      };
      b.objects = {
        hpa: { ...hpa, spec: { ...hpa.spec, metrics: [cpu, ...hpa.spec.metrics] } } as Observation['hpa'],
      };
      // CPU swept over 40..89 % as well: unpinned, the CPU rule would raise 70 → 85.
      const swept = measured.map((m, i) => ({ ...m, cpuUtilization: 0.4 + (i % 50) / 100 }));
      b.histories.set('shop/main', { changes: [], snapshots: swept });
    };
    const { recorded, status } = await run(new ContextBuilder().with(pinned));
    const bounds = recorded.calls.find((c) => c.startsWith('bounds')) ?? '';
    expect(Number(bounds.match(/ rate (\d+)$/)?.[1])).toBeGreaterThan(400);
    expect(bounds).not.toMatch(/ cpu (?!70 )/);
    expect(status?.history?.some((d) => d.knob === 'hpaTargetCpuPercent')).toBe(false);
  });

  it('holds it, saying why, where the HPA’s metric counts something else (here per minute)', async () => {
    const { recorded, status } = await run(new ContextBuilder().with(withRateTarget('40k')));
    expect(recorded.calls.some((c) => c.includes(' rate '))).toBe(false);
    expect(status?.history?.some((d) => d.knob === 'hpaTargetRequestsPerPod')).toBe(false);
    expect(condition(status, 'Ready')?.message).toMatch(
      /not tuned: hpaTargetRequestsPerPod \(http_requests_per_second reads 40000\/pod on 3 pods, the profile 667\/pod: not the same requests per second\)$/,
    );
  });
});

describe('reconcileProfile: the window between an apply and the status write', () => {
  /** The knobs as the first reconcile of a ContextBuilder leaves them. */
  const APPLIED = { ...ORIGINAL, poolSize: 7, maxOverflow: 2, minReplicas: 3 };
  /** The target's objects carrying the records of `records`, as the actuators wrote them. */
  const objectsWith = (records: readonly (string | undefined)[]): Partial<Observation> => {
    const [bounds, pool] = records;
    const annotated = (record: string | undefined) => ({
      metadata: {
        annotations: record ? { [LAST_CHANGE_ANNOTATION]: record } : ({} as Record<string, string>),
      },
    });
    return {
      hpa: {
        ...annotated(bounds),
        spec: { maxReplicas: 10, scaleTargetRef: { kind: 'Deployment', name: 'risk-api' } },
      },
      configMap: annotated(pool),
      deployment: annotated(pool),
    };
  };

  it('writes the record of each change into the apply that makes it', async () => {
    const { recorded, status } = await run(new ContextBuilder());
    expect(recorded.calls).toEqual(['bounds 3-10', 'pool 7+2']);
    const [bounds, pool] = recorded.records.map((r) => JSON.parse(r ?? '{}'));
    expect(bounds).toMatchObject({ profile: '6f1c2a4e-profile-main' });
    expect(bounds.changes.map((d: Decision) => d.knob)).toEqual(['minReplicas']);
    expect(pool.changes.map((d: Decision) => d.knob)).toEqual(['poolSize', 'maxOverflow']);
    // The records hold the very entries status history holds.
    expect([...bounds.changes, ...pool.changes]).toEqual(status?.history);
  });

  it('an operator that stopped before writing status: the next one records the changes and repeats none', async () => {
    const first = await run(
      new ContextBuilder().with((b) => {
        b.writeStatus = () => {
          throw new Error('the process died here');
        };
      }),
    ).catch(() => undefined);
    expect(first).toBeUndefined();
    // What the first process left: its records on the objects; the profile as it was before.
    const { recorded: records } = await run(new ContextBuilder());
    const restarted = await run(
      new ContextBuilder().with((b) => {
        b.knobs = { ...APPLIED };
        b.objects = objectsWith(records.records);
      }),
    );
    expect(restarted.recorded.calls).toEqual([]);
    expect(restarted.status?.history?.map((d) => `${d.knob} ${d.from}→${d.to}`)).toEqual([
      'minReplicas 4→3',
      'poolSize 20→7',
      'maxOverflow 30→2',
    ]);
    expect(restarted.recorded.events.filter((e) => e.note.includes('recorded late'))).toHaveLength(3);
    // The engine counts its cooldowns from them.
    expect(restarted.ctx.histories.get('shop/main')?.changes.map((c) => c.knob)).toEqual([
      'minReplicas',
      'poolSize',
      'maxOverflow',
    ]);
  });

  it.each<{ name: string; records: (p: ContextBuilder, r: (string | undefined)[]) => Partial<Observation> }>([
    {
      name: 'records of changes that status history holds',
      records: (_b, r) => objectsWith(r),
    },
    {
      name: 'records of another profile of the same name',
      records: (_b, r) => objectsWith(r.map((x) => x?.replace('6f1c2a4e-profile-main', 'an-older-uid'))),
    },
    {
      name: 'a record that is not JSON',
      records: () => objectsWith(['{not json', 'null']),
    },
  ])('recovers nothing from $name', async ({ records }) => {
    const first = await run(new ContextBuilder());
    const again = await run(
      new ContextBuilder().with((b) => {
        b.profile = profileOf('Auto', first.status);
        b.knobs = { ...APPLIED };
        b.objects = records(b, first.recorded.records);
      }),
    );
    expect(again.recorded.calls).toEqual([]);
    expect(again.status?.history ?? first.status?.history).toHaveLength(3);
    expect(again.recorded.events.filter((e) => e.note.includes('recorded late'))).toEqual([]);
  });

  it('a status write that fails keeps the changes and their Events for the next reconcile', async () => {
    let failing = true;
    const builder = new ContextBuilder().with((b) => {
      b.writeStatus = () => {
        if (failing) throw new Error('connect ECONNREFUSED');
      };
    });
    const { ctx, recorded } = builder.build();
    await expect(reconcileProfile(ctx, 'shop/main')).rejects.toThrow('ECONNREFUSED');
    expect(recorded.calls).toEqual(['bounds 3-10', 'pool 7+2']);
    expect(recorded.events).toEqual([]);
    // The API server is back; the knobs hold what was applied.
    failing = false;
    builder.knobs = { ...APPLIED };
    await reconcileProfile(ctx, 'shop/main');
    expect(recorded.calls).toEqual(['bounds 3-10', 'pool 7+2']);
    expect(recorded.statuses.at(-1)?.history?.map((d) => d.knob)).toEqual([
      'minReplicas',
      'poolSize',
      'maxOverflow',
    ]);
    expect(recorded.events.map((e) => e.reason)).toEqual(['Applied', 'Applied', 'Applied']);
    expect(ctx.unreported.size).toBe(0);
  });
});

describe('classifyingSecretReader', () => {
  const ref = { namespace: 'shop', name: 'redis-auth', key: 'password' };
  it.each<{ name: string; err: Error; permanent: boolean }>([
    { name: 'a missing Secret (404)', err: new ApiException(404, 'Not Found', '', {}), permanent: true },
    {
      name: 'a Secret the Role does not grant (403)',
      err: new ApiException(403, 'Forbidden', '', {}),
      permanent: true,
    },
    {
      name: 'a missing key',
      err: new SecretKeyMissingError('Secret shop/redis-auth has no key "password"'),
      permanent: true,
    },
    { name: 'an API server that is away', err: new TypeError('fetch failed'), permanent: false },
    {
      name: 'an API server that answers 503',
      err: new ApiException(503, 'Unavailable', '', {}),
      permanent: false,
    },
  ])('$name', async ({ err, permanent }) => {
    const read = classifyingSecretReader(async () => {
      throw err;
    });
    const thrown = await read(ref).catch((e: unknown) => e);
    expect(thrown instanceof PermanentError).toBe(permanent);
    if (permanent)
      expect((thrown as Error).message).toContain('Secret shop/redis-auth key "password" cannot be read');
    else expect(thrown).toBe(err);
  });
});
