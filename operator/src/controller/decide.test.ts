import { describe, expect, it } from 'vitest';
import { API_VERSION, KIND, type PerformanceProfile } from '../api/v1alpha1/index.ts';
import type { RebuiltHistory } from '../metrics/index.ts';
import { createLogger } from '../telemetry/logger.ts';
import { RATE_BUCKET_SECONDS, rateHistoryOf } from '../tuning/forecast.ts';
import { defaultedProfileSpec } from '../tuning/tuning-spec-from-profile.ts';
import type { MetricSnapshot, TuningHistory } from '../tuning/types.ts';
import { historyOf } from './decide.ts';
import type { ReconcileContext } from './reconcile-context.ts';

const NOW = 1_800_000_000;
const snapshot = (takenAtSeconds: number): MetricSnapshot => ({
  takenAtSeconds,
  windowSeconds: 60,
  requestsPerSecond: 300,
  p95LatencyMs: 80,
  errorRate: 0,
  cpuUtilization: 0.4,
  dbQueriesPerSecond: 30,
  dbActiveConnections: 2,
  poolWaitMs: 1,
  readyReplicas: 2,
});
const snapshots = [snapshot(NOW - 120), snapshot(NOW - 60)];
const rates = {
  buckets: [
    { atSeconds: NOW - 3 * RATE_BUCKET_SECONDS, rps: 250 },
    { atSeconds: NOW - 2 * RATE_BUCKET_SECONDS, rps: 260 },
  ],
};

const profile: PerformanceProfile = {
  apiVersion: API_VERSION,
  kind: KIND,
  metadata: { namespace: 'shop', name: 'orders' },
  spec: defaultedProfileSpec({
    targetRef: { name: 'orders-api' },
    metrics: { prometheus: { url: 'http://prometheus.test' } },
  }),
};

function contextRebuilding(rebuild: () => Promise<RebuiltHistory>): ReconcileContext {
  return {
    histories: new Map<string, TuningHistory>(),
    rebuildHistory: rebuild,
  } as unknown as ReconcileContext;
}

describe('historyOf', () => {
  it.each<[string, () => Promise<RebuiltHistory>, Pick<TuningHistory, 'snapshots' | 'rates'>]>([
    [
      'the rate history read from Prometheus, beside the snapshots',
      async () => ({ snapshots, rates, unknown: [], rejectedPoints: 0 }),
      { snapshots, rates },
    ],
    [
      'the snapshots’ rates when the rate history was not read',
      async () => ({ snapshots, unknown: [], rejectedPoints: 0 }),
      { snapshots, rates: rateHistoryOf(snapshots) },
    ],
    [
      'nothing when Prometheus did not answer',
      async () => {
        throw new Error('unreachable');
      },
      { snapshots: [], rates: rateHistoryOf([]) },
    ],
  ])('starts the engine’s history from %s', async (_what, rebuild, expected) => {
    const ctx = contextRebuilding(rebuild);
    const history = await historyOf(ctx, profile, 'shop/orders', NOW, createLogger({ level: 'silent' }));
    expect(history).toEqual({ changes: [], ...expected });
    // Rebuilt once: the next reconcile keeps it in memory.
    expect(await historyOf(ctx, profile, 'shop/orders', NOW + 60, createLogger({ level: 'silent' }))).toBe(
      history,
    );
  });
});
