import { describe, expect, it } from 'vitest';
import { API_VERSION, KIND, type PerformanceProfile } from '../api/v1alpha1/index.ts';
import { RATE_BUCKET_SECONDS } from '../tuning/forecast.ts';
import { defaultedProfileSpec } from '../tuning/tuning-spec-from-profile.ts';
import { SharedAnswers } from './grouped-queries.ts';
import type { PrometheusClient, QueryData } from './prometheus-client.ts';
import { rateHistoryRange } from './rate-history.ts';
import { HISTORY_SIGNALS } from './signals.ts';
import { type MetricSources, RATE_HISTORY_SIGNAL, rebuildHistory } from './sources.ts';

const NOW = 1_800_000_017;
const B = RATE_BUCKET_SECONDS;

interface Asked {
  readonly step: number;
}

/**
 * Sources on a Prometheus that answers every range query: the evaluation-interval queries with
 * three points of 1, the rate history's (step 300 s) with `ratePoints` at the range's last times.
 */
function sourcesAnswering(ratePoints: readonly (number | string)[] | Error) {
  const asked: Asked[] = [];
  const counted: { signal: string; reason: string }[] = [];
  const client = {
    url: 'http://prometheus.test',
    queryRange: async (_promql: string, start: number, end: number, step: number): Promise<QueryData> => {
      asked.push({ step });
      if (step === B) {
        if (ratePoints instanceof Error) throw ratePoints;
        const values = ratePoints.map((v, i) => [end - (ratePoints.length - 1 - i) * step, String(v)]);
        return { resultType: 'matrix', result: values.length > 0 ? [{ metric: {}, values }] : [] };
      }
      const values = [0, 1, 2].map((i) => [start + i * step, '1']);
      return { resultType: 'matrix', result: [{ metric: {}, values }] };
    },
  } as unknown as PrometheusClient;
  const sources: MetricSources = {
    prometheus: async () => client,
    redisOptions: async () => undefined,
    readRedis: async () => {
      throw new Error('not read');
    },
    unknownAnswers: { inc: (labels) => counted.push({ signal: labels.signal, reason: labels.reason }) },
    answers: new SharedAnswers(),
    close: () => {},
  };
  return { sources, asked, counted };
}

function profile(
  policy: Record<string, unknown> = {},
  metrics: Record<string, unknown> = {},
): PerformanceProfile {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { namespace: 'shop', name: 'orders' },
    spec: defaultedProfileSpec({
      targetRef: { name: 'orders-api' },
      policy: { evaluationIntervalSeconds: 10, verificationWindowSeconds: 60, ...policy },
      metrics: { prometheus: { url: 'http://prometheus.test' }, ...metrics },
    }),
  };
}

const REDIS = { redis: { endpoints: ['redis:6379'] } };
const REDIS_SIGNAL_COUNT = HISTORY_SIGNALS.filter((s) => s.startsWith('redis')).length;

describe('rebuildHistory', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>, number, boolean]>([
    ['forecast Recommend (the default), no Redis', {}, {}, HISTORY_SIGNALS.length - REDIS_SIGNAL_COUNT, true],
    ['forecast Auto, with Redis', { forecast: 'Auto' }, REDIS, HISTORY_SIGNALS.length, true],
    ['forecast Off, with Redis', { forecast: 'Off' }, REDIS, HISTORY_SIGNALS.length, false],
  ])(
    '%s: one range query a signal, and the rate history’s only with the forecast on',
    async (_what, policy, metrics, signals, rates) => {
      const { sources, asked } = sourcesAnswering([500]);
      const history = await rebuildHistory(profile(policy, metrics), sources, NOW);
      expect(asked.filter((a) => a.step === 10)).toHaveLength(signals);
      expect(asked.filter((a) => a.step === B)).toHaveLength(rates ? 1 : 0);
      expect(history.snapshots).toHaveLength(3);
      expect(history.snapshots.every((s) => (s.redis !== undefined) === (metrics === REDIS))).toBe(true);
      expect(history.rates !== undefined).toBe(rates);
    },
  );

  it.each<[string, (number | string)[], number[], number]>([
    ['every point good', [400, 500, 600], [400, 500, 600], 0],
    ['NaN, negative and infinite points dropped and counted', [400, 'NaN', -3, '+Inf', 600], [400, 600], 3],
    ['a measured zero kept', [0, 500], [0, 500], 0],
  ])('the rate history: %s', async (_what, answered, kept, rejected) => {
    const { sources } = sourcesAnswering(answered);
    const history = await rebuildHistory(profile(), sources, NOW);
    expect(history.rates?.buckets.map((b) => b.rps)).toEqual(kept);
    expect(history.rejectedPoints).toBe(rejected);
    // The last bucket is the one before the bucket being filled now; dropped points leave gaps.
    expect(history.rates?.buckets.at(-1)?.atSeconds).toBe(rateHistoryRange(NOW).endSeconds - B);
    expect(history.unknown).toEqual([]);
  });

  it.each<[string, (number | string)[] | Error, string]>([
    ['no points', [], 'empty'],
    ['only NaN points', ['NaN', 'NaN'], 'empty'],
    [
      'no answer',
      new Error('Prometheus at http://prometheus.test is unreachable: ECONNREFUSED'),
      'unanswered',
    ],
  ])(
    'the rate history with %s is unknown, named and counted, never zero',
    async (_what, answered, reason) => {
      const { sources, counted } = sourcesAnswering(answered);
      const history = await rebuildHistory(profile(), sources, NOW);
      expect(history.rates).toBeUndefined();
      expect(history.snapshots).toHaveLength(3);
      expect(history.unknown.map((u) => u.signal)).toEqual([RATE_HISTORY_SIGNAL]);
      expect(counted.map((c) => c.signal)).toEqual([RATE_HISTORY_SIGNAL]);
      expect(history.unknown[0]?.reason).toBe(counted[0]?.reason);
      expect(counted[0]?.reason.toLowerCase()).toContain(reason);
    },
  );
});
