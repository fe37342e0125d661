/**
 * Scaling ahead of the load on real components (live-env.ts: a control plane with
 * kube-controller-manager, so the real HPA controller acts, kwok, Debian's Prometheus scraping a
 * test exporter, the operator started as main starts it). Prometheus holds a day and two hours of
 * the request rate before it starts (backfilled with promtool), whose daily peak came 6 minutes
 * after this time of day yesterday: an operator that has never seen the service rebuilds the
 * rate history from Prometheus, forecasts from its first evaluation, and raises `minReplicas`
 * above what the quiet load needs before the peak is due. Then a burst to over twice what the
 * ready pods serve raises `minReplicas` within one evaluation, inside the cooldown of the
 * forecast's change. Each with what a user sees: the HPA, status, Events.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerformanceProfile } from '../../operator/src/api/v1alpha1/index.ts';
import { DAY_SECONDS, RATE_BUCKET_SECONDS } from '../../operator/src/tuning/forecast.ts';
import { waitFor } from '../cluster/processes.ts';
import { counterBackfill } from '../cluster/prometheus.ts';
import { type LiveEnv, startLiveEnv } from './live-env.ts';

const ns = 'ahead';
const PASSWORD = 'live-ahead-redis-password-3c9e';
const STACK = 'ahead-api';
/** Named timeouts: what a user may wait for. */
const evaluationMs = 10_000;
const appliedWithinMs = 4 * evaluationMs;
/** A burst is acted on in the evaluation that first measures it: within two intervals of the load's step. */
const burstAppliedWithinMs = 2 * evaluationMs;
const podsFollowMs = 60_000;
/** The profile's cooldown: a change inside it is held, except the burst rule's. */
const cooldownSeconds = 600;

/** The quiet day: the exporter's 50 requests a 100 ms tick. */
const QUIET_RPS = 500;
/** Yesterday's peak: three times the quiet rate, from 6 minutes to 2 hours after this time of day. */
const PEAK_RPS = 1500;
const PEAK_FROM_SECONDS = 360;
const PEAK_TO_SECONDS = 7200;
/** The backfill: a day and two hours, up to a minute before the test starts (the live series follows). */
const BACKFILL_SECONDS = DAY_SECONDS + 7200;

let env: LiveEnv;
/** When the backfill was made (Unix seconds): yesterday's peak came PEAK_FROM_SECONDS after it, a day earlier. */
let madeAt = 0;
const timings: Record<string, number> = {};

const hpaOf = () => env.hpaOf(STACK);
const minReplicasChanges = (p: PerformanceProfile) =>
  (p.status?.history ?? []).filter((d) => d.knob === 'minReplicas' && d.outcome === 'Applied');

/** The request rate the backfill holds at `t`: the quiet rate, and the peak a day before today's. */
function backfilledRate(t: number): number {
  const sinceYesterday = t - (madeAt - DAY_SECONDS);
  return sinceYesterday >= PEAK_FROM_SECONDS && sinceYesterday <= PEAK_TO_SECONDS ? PEAK_RPS : QUIET_RPS;
}

beforeAll(async () => {
  madeAt = Math.floor(Date.now() / 1000);
  env = await startLiveEnv({
    namespace: ns,
    password: PASSWORD,
    standalone: { single: 64 },
    stacks: [{ name: STACK }],
    // The series and labels the profile's request-rate query reads (the scrape adds namespace and
    // job to the exporter's), every 5 s: its irate() over 20 s reads the rate at any time.
    prometheusBackfill: counterBackfill({
      name: 'http_request_duration_seconds_count',
      labels: { namespace: ns, job: STACK, instance: 'backfill', status_code: '200' },
      fromSeconds: madeAt - BACKFILL_SECONDS,
      toSeconds: madeAt - 60,
      stepSeconds: 5,
      rate: backfilledRate,
    }),
  });
  await env.startOperator('live-ahead-1');
}, 240_000);

afterAll(async () => {
  await env?.stop();
  console.log(`load → minReplicas raised (ms): ${JSON.stringify(timings)}`);
  mkdirSync('.testenv', { recursive: true });
  writeFileSync('.testenv/live-ahead-operator.log', env?.logLines.join('') ?? '');
});

describe('ahead of the load', () => {
  it('a day of history in Prometheus gives a forecast at once, and its floor rises before the peak', async () => {
    await waitFor(
      'the Deployment at the HPA floor of 2',
      async () => ((await env.deploymentOf(STACK)).status?.readyReplicas === 2 ? true : undefined),
      { timeoutMs: podsFollowMs, intervalMs: 500 },
    );
    const profile = env.profileFor(STACK, 'Auto', 'single', {
      // Only the replica bounds move: the pool is pinned, maxmemory too.
      knobs: { poolSize: { min: 5, max: 5 }, maxOverflow: { min: 0, max: 0 } },
      redisMaxmemory: { minMiB: 64, maxMiB: 64, containerMemoryLimitMiB: 128 },
    });
    const created = Date.now();
    await env.profiles.create({
      ...profile,
      spec: { ...profile.spec, policy: { ...profile.spec.policy, forecast: 'Auto', cooldownSeconds } },
    });
    // The first forecast is on: the day came from Prometheus, not from the operator's own minutes.
    const first = await env.waitForProfile(
      STACK,
      'a forecast in status',
      (p) => p.status?.forecast !== undefined,
      appliedWithinMs,
    );
    expect(first.status?.forecast).toMatchObject({ mode: 'Auto', season: 'daily' });
    expect(first.status?.forecast?.message).toMatch(/^forecast \(daily seasonal median of 1 season × level /);
    const rebuilt = env.logLines
      .filter((l) => l.includes('"rebuilt history"'))
      .map((l) => JSON.parse(l) as { profile?: string; rateBuckets?: number })
      .find((l) => l.profile === `${ns}/${STACK}`);
    expect(rebuilt?.rateBuckets).toBeGreaterThanOrEqual(DAY_SECONDS / RATE_BUCKET_SECONDS);

    // The peak's first 5-minute bucket enters the forecast's lead (start-up + HPA sync +
    // evaluation) before the peak is due; the floor follows in the next evaluations.
    const peakDueMs = (madeAt + PEAK_FROM_SECONDS) * 1000;
    const raised = await waitFor(
      'minReplicas raised by the forecast',
      async () => {
        const hpa = await hpaOf();
        return (hpa?.minReplicas ?? 0) > 2 ? hpa : undefined;
      },
      { timeoutMs: Math.max(0, peakDueMs - Date.now()) + appliedWithinMs, intervalMs: 200 },
    );
    timings.forecast = Date.now() - created;
    const floor = raised.minReplicas ?? 0;
    const p = await env.waitForProfile(
      STACK,
      'the forecast’s change in history',
      (p) => minReplicasChanges(p).length > 0,
      appliedWithinMs,
    );
    const [change] = minReplicasChanges(p);
    expect(change).toMatchObject({ from: 2, to: floor, outcome: 'Applied' });
    // Before the peak, on the quiet load, which the reactive rule serves with 2 replicas.
    expect(Date.parse(change?.time ?? '')).toBeLessThan(peakDueMs);
    expect(change?.snapshot?.requestsPerSecond).toBeLessThan(PEAK_RPS / 2);
    expect(change?.reason).toMatch(
      /forecast \(daily seasonal median of 1 season × level [\d.]+, error unknown until two seasons exist\): \d+ rps within the next 85 s \(start-up \+ HPA sync \+ evaluation\) at \d+ rps a pod raises minReplicas to \d+, above the reactive 2/,
    );
    const forecast = p.status?.forecast;
    expect(forecast).toMatchObject({ mode: 'Auto', season: 'daily', applied: true });
    expect(forecast?.minReplicas).toBeGreaterThanOrEqual(floor);
    expect(forecast?.peakRequestsPerSecond).toBeGreaterThan(0.8 * PEAK_RPS);
    expect(forecast?.peakRequestsPerSecond).toBeLessThan(1.2 * PEAK_RPS);
    const events = await env.eventsOf(STACK);
    expect(
      events.some(
        (e) =>
          e.reason === 'Applied' &&
          e.note.startsWith(`minReplicas 2 → ${floor}`) &&
          e.note.includes('forecast (daily seasonal median'),
      ),
    ).toBe(true);
    // The real HPA controller brings the Deployment up to the floor.
    await waitFor(
      `the Deployment at ${floor} ready replicas`,
      async () => ((await env.deploymentOf(STACK)).status?.readyReplicas ?? 0) >= floor || undefined,
      { timeoutMs: podsFollowMs, intervalMs: 500 },
    );
  }, 600_000);

  // On the floor the forecast raised: minReplicas is inside its cooldown.
  it('a burst to over twice what the ready pods serve raises minReplicas within one evaluation, through the cooldown', async () => {
    const before = await env.profiles.get(ns, STACK);
    const floor = (await hpaOf())?.minReplicas ?? 0;
    const previous = minReplicasChanges(before).at(-1);
    expect(previous, 'the forecast’s change of minReplicas').toBeDefined();
    await env.waitForProfile(
      STACK,
      `the HPA reporting ${floor} ready pods in a snapshot`,
      (p) => p.status?.lastSnapshot?.readyReplicas === floor,
      appliedWithinMs,
    );
    // 3,000 rps at full CPU: the ready pods were measured at about 350 rps each at the 70 % target.
    const stepped = Date.now();
    env.traffic.get(STACK)?.update({ requestsPerTick: 300, cpuSecondsPerTick: 0.1 });
    const raised = await waitFor(
      'minReplicas raised by the burst',
      async () => {
        const hpa = await hpaOf();
        return (hpa?.minReplicas ?? 0) > floor ? hpa : undefined;
      },
      { timeoutMs: burstAppliedWithinMs, intervalMs: 100 },
    );
    timings.burst = Date.now() - stepped;
    const burstFloor = raised.minReplicas ?? 0;
    expect(raised.maxReplicas).toBeGreaterThanOrEqual(burstFloor);
    const p = await env.waitForProfile(
      STACK,
      'the burst’s change in history',
      (p) => minReplicasChanges(p).some((d) => d.to === burstFloor),
      appliedWithinMs,
    );
    const change = minReplicasChanges(p).find((d) => d.to === burstFloor);
    expect(change).toMatchObject({ from: floor, outcome: 'Applied' });
    expect(change?.reason).toMatch(
      new RegExp(
        `^burst: \\d+ rps is [\\d.]+× what ${floor} ready pods serve at the 70 % CPU target \\(\\d+ rps a pod, capacity observed\\), at least 2×: minReplicas ${floor} → ${burstFloor} at once`,
      ),
    );
    expect(change?.reason).toContain(
      'the burst rule is the only one that skips the cooldown and the step cap',
    );
    // Through the cooldown: the forecast's change of minReplicas was less than a cooldown ago.
    expect(Date.parse(change?.time ?? '') - Date.parse(previous?.time ?? '')).toBeLessThan(
      cooldownSeconds * 1000,
    );
    const events = await env.eventsOf(STACK);
    expect(
      events.some(
        (e) =>
          e.reason === 'Applied' &&
          e.note.startsWith(`minReplicas ${floor} → ${burstFloor}`) &&
          e.note.includes('burst:') &&
          e.note.includes('skips the cooldown'),
      ),
    ).toBe(true);
    await waitFor(
      `the Deployment at ${burstFloor} ready replicas`,
      async () => ((await env.deploymentOf(STACK)).status?.readyReplicas ?? 0) >= burstFloor || undefined,
      { timeoutMs: podsFollowMs, intervalMs: 500 },
    );
  }, 180_000);
});
