/**
 * The HPA's CPU target as a tuned knob (spec.knobs.hpaTarget) on the live loop's components: a
 * control plane with kube-controller-manager (the real HPA controller), the scheduler and kwok,
 * Debian's Prometheus scraping test exporters, the operator started as main starts it, and
 * prometheus-adapter serving the resource metrics API (metrics.k8s.io) from Prometheus, so the HPA
 * reads its pods' CPU utilization from the same cAdvisor-named series the operator reads. kwok's
 * pods run nothing: the test serves each real pod's CPU series (exporter.ts, drivePodCpu), a fixed
 * load shared by the ready pods, as a Service shares requests among its endpoints.
 *
 * Two stacks carry the same load (24 pods at 62.5 % of a one-core request, p95 47.5 ms against
 * the 200 ms SLO) under an HPA at 60 % with a second, External metric: `tuned-api`'s profile sets
 * `spec.knobs.hpaTarget: {}`, `held-api`'s does not. A third HPA has no cpu Utilization metric.
 *
 * A fourth stack, `rate-api`, scales on the request rate alone: 20 pods serve 2,000 requests/s
 * under an HPA whose External metric `requests_per_second` (prometheus-adapter, from the same
 * request counter the operator reads) targets 100 a pod. Its profile tunes that target
 * (`hpaTarget.requestRate`); the operator first checks that the HPA's reading counts the same
 * requests, and the real HPA controller acts on the target it writes.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import {
  AutoscalingV2Api,
  CoreV1Api,
  type V2HorizontalPodAutoscaler,
  type V2MetricSpec,
} from '@kubernetes/client-node';
import { quantityToScalar } from '@kubernetes/client-node/dist/util.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestRateMetricName } from '../../charts-ts/src/request-rate-metric.ts';
import { DEFAULT_PROMQL, type PerformanceProfile } from '../../operator/src/api/v1alpha1/index.ts';
import { drivePodCpu } from '../cluster/exporter.ts';
import { waitFor } from '../cluster/processes.ts';
import { applyAs, createTargetStack } from './fixtures.ts';
import { condition, type LiveEnv, startLiveEnv } from './live-env.ts';

const ns = 'live-hpa';
const PASSWORD = 'live-hpa-redis-password-2c9d';
const TUNED = 'tuned-api';
const HELD = 'held-api';
const NO_CPU = 'nocpu-api';
const RATE = 'rate-api';
/** The request-rate stack: its pods, the requests/s they share, and the HPA's target a pod as the user wrote it. */
const RATE_PODS = 20;
const RATE_RPS = 2000;
const RATE_START = 100;
/**
 * The profile's request-rate bounds: bins of 300 / 20 = 15 requests/s a pod, so one bin past the
 * 100 seen is a step past the gate's 10 % deadband (with 10-rps bins, 100 → 109 would be held).
 */
const RATE_BOUNDS = { minPerPod: 50, maxPerPod: 300 };
/** The pods each CPU stack starts with, each requesting one core. */
const PODS = 24;
/** The HPA's CPU target as the user wrote it. */
const START_TARGET = 60;
/** The load's CPU in cores: 62.5 % of each pod's request, inside the HPA's 10 % tolerance above 60 %. */
const CORES = 0.625 * PODS;
/** HPA bounds: room both ways, inside the profile's replica bounds and the DB budget. */
const MIN_REPLICAS = 2;
const MAX_REPLICAS = 30;
/** The user's scale-down tolerance on the HPA (autoscaling/v2 behavior, GA in v1.37); see the HPA test. */
const SCALE_DOWN_TOLERANCE = '0.02';

/**
 * Named timeouts. The rule needs 30 pairs of snapshots one lead apart (the lead: a pod's 60 s
 * start-up, one 15 s HPA sync and one 10 s evaluation: 85 s), at the CRD's shortest interval of
 * 10 s about 39 snapshots, 6.5 minutes of history; no profile setting shortens the lead.
 */
const evaluationMs = 10_000;
const historyMs = 11 * 60_000;
const hpaFollowsMs = 60_000;

/**
 * The default queries with rate() over 30 s instead of 2 and 5 minutes. Not irate(): it reads the
 * last two scrapes, 1 s apart, whose one 100 ms tick more or less makes a rate 10 % off; the rule's
 * growth estimate (the 95th percentile of the rate one lead later over the rate now) would read
 * that noise as growth and keep the target cooler. Over 30 s one tick is 0.3 %.
 */
const RATE_30S_QUERIES: Record<string, string> = Object.fromEntries(
  Object.entries(DEFAULT_PROMQL)
    .filter(([, q]) => /\[(2|5)m\]/.test(q))
    .map(([signal, q]) => [signal, q.replaceAll(/\[(2|5)m\]/g, '[30s]')]),
);

let env: LiveEnv;
const pollers: { stop(): Promise<void> }[] = [];
const timings: Record<string, number> = {};
/** What the run measured: the target written, the HPA's reading before it, the replicas after. */
const outcome: Record<string, number> = {};

const autoscaling = () => env.cp.kubeConfig.makeApiClient(AutoscalingV2Api);
const hpaOf = async (name: string) =>
  await autoscaling().readNamespacedHorizontalPodAutoscaler({ namespace: ns, name });

/** The user's metrics: CPU utilization, and the toolkit's request rate as an External metric of this stack. */
const metricsOf = (name: string): V2MetricSpec[] => [
  {
    type: 'Resource',
    resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: START_TARGET } },
  },
  {
    type: 'External',
    external: {
      metric: { name: requestRateMetricName, selector: { matchLabels: { job: name } } },
      target: { type: 'AverageValue', averageValue: '1k' },
    },
  },
];

/** The request-rate stack's one metric: its requests per second as an External metric, 100 a pod. */
const rateMetrics: V2MetricSpec[] = [
  {
    type: 'External',
    external: {
      metric: { name: requestRateMetricName, selector: { matchLabels: { job: RATE } } },
      target: { type: 'AverageValue', averageValue: String(RATE_START) },
    },
  },
];

/**
 * The user's HPA, with a scale-down tolerance of its own (2 %, autoscaling/v2 behavior, KEP-4951)
 * that perfpilot reads and carries as written. With it one 5-point bin past the CPU seen (60 →
 * about 67 here) is a step the HPA acts on; with the default 10 % the rule would go to about 70.
 */
function userHpa(name: string, metrics: V2MetricSpec[], withTunedFields: boolean): V2HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: ns },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      ...(withTunedFields ? { minReplicas: MIN_REPLICAS, maxReplicas: MAX_REPLICAS, metrics } : {}),
      behavior: { scaleDown: { stabilizationWindowSeconds: 0, tolerance: SCALE_DOWN_TOLERANCE } },
    } as V2HorizontalPodAutoscaler['spec'],
  };
}

/**
 * createHpa applies the user's HPA as field manager `gitops`, then hands the fields perfpilot tunes
 * over as the GitOps guide does: perfpilot co-owns them at their values, and the user's manifest
 * without them lets go. `handOverMetrics`: spec.metrics too (the profile tunes the target).
 */
async function createHpa(name: string, metrics: V2MetricSpec[], handOverMetrics: boolean): Promise<void> {
  await applyAs(env.cp.kubeConfig, 'gitops', userHpa(name, metrics, true));
  await applyAs(env.cp.kubeConfig, 'perfpilot', {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: ns },
    spec: {
      minReplicas: MIN_REPLICAS,
      maxReplicas: MAX_REPLICAS,
      ...(handOverMetrics ? { metrics } : {}),
    },
  });
  const kept = userHpa(name, metrics, false);
  if (!handOverMetrics) (kept.spec as { metrics?: V2MetricSpec[] }).metrics = metrics;
  await applyAs(env.cp.kubeConfig, 'gitops', kept);
}

/** readyPodsOf names the Deployment's pods that are Ready and not being deleted. */
async function readyPodsOf(name: string): Promise<string[]> {
  const list = await env.cp.kubeConfig
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: ns, labelSelector: `app.kubernetes.io/name=${name}` });
  return list.items
    .filter(
      (p) =>
        !p.metadata?.deletionTimestamp &&
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    )
    .map((p) => p.metadata?.name ?? '')
    .sort();
}

/**
 * serveCpu serves the stack's pods' CPU: the load's cores shared by its ready pods, followed every
 * 500 ms, and kube-state-metrics' ready replicas with them (the history rebuild reads those).
 */
function serveCpu(name: string): { stop(): Promise<void> } {
  const exporter = env.exporters.get(name);
  const traffic = env.traffic.get(name);
  if (!exporter || !traffic) throw new Error(`no exporter for ${name}`);
  const cpu = drivePodCpu(exporter, { cores: CORES });
  let running = true;
  let last = '';
  const loop = (async () => {
    while (running) {
      const pods = await readyPodsOf(name).catch(() => undefined);
      if (pods && pods.length > 0 && pods.join() !== last) {
        last = pods.join();
        cpu.setPods(pods);
        traffic.update({ readyReplicas: pods.length });
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      cpu.stop();
    },
  };
}

/** serveReadyReplicas keeps kube-state-metrics' ready replicas of the stack at its ready pods, followed every 500 ms. */
function serveReadyReplicas(name: string): { stop(): Promise<void> } {
  const traffic = env.traffic.get(name);
  if (!traffic) throw new Error(`no exporter for ${name}`);
  let running = true;
  let last = -1;
  const loop = (async () => {
    while (running) {
      const ready = (await readyPodsOf(name).catch(() => undefined))?.length;
      if (ready !== undefined && ready > 0 && ready !== last) {
        last = ready;
        traffic.update({ readyReplicas: ready });
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** A profile in Auto for `name`: every knob but the HPA's pinned or out of the way, the policy live-loop's. */
function profileOf(name: string, hpaTarget: boolean | object): PerformanceProfile {
  const profile = env.profileFor(name, 'Auto', 'single', {
    queries: RATE_30S_QUERIES,
    redisMaxmemory: { minMiB: 64, maxMiB: 64, containerMemoryLimitMiB: 128 },
    knobs: {
      poolSize: { min: 5, max: 5 },
      maxOverflow: { min: 0, max: 0 },
      replicas: { floor: MIN_REPLICAS, ceiling: MAX_REPLICAS },
      ...(hpaTarget ? { hpaTarget: hpaTarget === true ? {} : hpaTarget } : {}),
    },
  });
  // 30 replicas × 5 connections fit: the budget never cuts maxReplicas under the HPA.
  profile.spec.database = { maxConnections: 500, reservedConnections: 10 };
  return profile;
}

/** What an HPA's status says: the replicas it wants and the CPU utilization it read. */
async function hpaStatusOf(name: string) {
  const hpa = await hpaOf(name);
  const cpu = hpa.status?.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  return {
    desiredReplicas: hpa.status?.desiredReplicas,
    currentReplicas: hpa.status?.currentReplicas,
    cpuPercent: cpu?.resource?.current.averageUtilization,
    conditions: (hpa.status?.conditions ?? []).map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`),
  };
}

/** What the request-rate stack's HPA says: the replicas it wants and its reading of the metric, a pod. */
async function rateStatusOf() {
  const hpa = await hpaOf(RATE);
  const reading = hpa.status?.currentMetrics?.find((m) => m.type === 'External')?.external?.current
    .averageValue;
  return {
    desiredReplicas: hpa.status?.desiredReplicas,
    currentReplicas: hpa.status?.currentReplicas,
    perPod: reading === undefined ? undefined : Number(quantityToScalar(String(reading))),
    conditions: (hpa.status?.conditions ?? []).map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`),
  };
}

const rateTargetOf = (hpa: V2HorizontalPodAutoscaler) => {
  const value = hpa.spec?.metrics?.find((m) => m.type === 'External')?.external?.target.averageValue;
  return value === undefined ? undefined : Number(quantityToScalar(String(value)));
};

const cpuTargetOf = (hpa: V2HorizontalPodAutoscaler) =>
  hpa.spec?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.target
    .averageUtilization;

/** The fields a manager owns under spec, from managedFields. */
function specFieldsOf(hpa: V2HorizontalPodAutoscaler, manager: string): string[] {
  const entries = (hpa.metadata?.managedFields ?? []).filter((m) => m.manager === manager);
  return entries.flatMap((m) =>
    Object.keys(
      ((m.fieldsV1 as Record<string, Record<string, unknown>> | undefined)?.['f:spec'] ?? {}) as object,
    ),
  );
}

/** The CPU utilization the tuned stack's HPA read before its target changed, in whole percent. */
let hpaReadBefore = 0;

/** The user's metrics as the API server stored them, read before the operator started. */
const written: Record<string, V2MetricSpec[]> = {};
/** The tuned HPA's External metric as kubectl prints it (JSON), read before the operator started. */
let externalJson = '';

/** metricJson is one metric of an HPA's spec.metrics as kubectl prints it, JSON from the API server. */
const metricJson = async (name: string, index: number) =>
  (await env.cp.kubectl(['get', 'hpa', '-n', ns, name, '-o', `jsonpath={.spec.metrics[${index}]}`])).stdout;

beforeAll(async () => {
  const cpuStack = {
    // p95 47.5 ms (every request in the 50 ms bucket), no errors; CPU per real pod from serveCpu.
    series: { podCpuSeries: false, latencySeconds: 0.03, errorEveryTicks: 0, readyReplicas: PODS },
    objects: false,
  };
  env = await startLiveEnv({
    namespace: ns,
    password: PASSWORD,
    standalone: { single: 64 },
    stacks: [
      { name: TUNED, ...cpuStack },
      { name: HELD, ...cpuStack },
      { name: NO_CPU },
      {
        // 2,000 requests/s (200 every 100 ms tick), p95 47.5 ms, no errors.
        name: RATE,
        series: {
          requestsPerTick: RATE_RPS / 10,
          latencySeconds: 0.03,
          errorEveryTicks: 0,
          readyReplicas: RATE_PODS,
        },
        objects: false,
      },
    ],
  });
  await env.cp.startMetricsAdapter({
    prometheusUrl: env.prometheus.url,
    resourceMetrics: { windowSeconds: 30 },
  });
  const knobs = { poolSize: 5, maxOverflow: 0, minReplicas: MIN_REPLICAS, maxReplicas: MAX_REPLICAS };
  for (const name of [TUNED, HELD]) {
    await createTargetStack(env.cp.kubeConfig, ns, name, knobs, {
      replicas: PODS,
      cpuRequest: '1',
      hpa: false,
    });
  }
  await createTargetStack(env.cp.kubeConfig, ns, RATE, knobs, {
    replicas: RATE_PODS,
    cpuRequest: '1',
    hpa: false,
  });
  for (const name of [TUNED, HELD]) {
    await waitFor(
      `${PODS} ready pods of ${name}`,
      async () => ((await readyPodsOf(name)).length === PODS ? true : undefined),
      {
        timeoutMs: 120_000,
        intervalMs: 500,
      },
    );
    pollers.push(serveCpu(name));
  }
  await waitFor(
    `${RATE_PODS} ready pods of ${RATE}`,
    async () => ((await readyPodsOf(RATE)).length === RATE_PODS ? true : undefined),
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  pollers.push(serveReadyReplicas(RATE));
  // The HPA comes once each pod's CPU has a whole 30 s window, so it first reads 62 % and keeps 24 pods.
  for (const name of [TUNED, HELD]) {
    await env.prometheus.waitForSeries(
      `count(rate(container_cpu_usage_seconds_total{namespace="${ns}",pod=~"${name}-.+"}[30s])) == ${PODS}`,
    );
  }
  await new Promise((r) => setTimeout(r, 35_000));
  await createHpa(TUNED, metricsOf(TUNED), true);
  await createHpa(HELD, metricsOf(HELD), false);
  await createHpa(RATE, rateMetrics, true);
  // The third HPA scales on the request rate alone: nothing for the CPU target knob to set.
  await applyAs(
    env.cp.kubeConfig,
    'gitops',
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: NO_CPU, namespace: ns },
      spec: { metrics: [metricsOf(NO_CPU)[1]] },
    },
    true,
  );
  for (const name of [TUNED, HELD, NO_CPU, RATE]) written[name] = (await hpaOf(name)).spec?.metrics ?? [];
  externalJson = await metricJson(TUNED, 1);
  await waitFor(
    `the HPA of ${TUNED} reads its pods' CPU`,
    async () => ((await hpaStatusOf(TUNED)).cpuPercent !== undefined ? true : undefined),
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  await env.profiles.create(profileOf(TUNED, true));
  await env.profiles.create(profileOf(HELD, false));
  await env.profiles.create(profileOf(NO_CPU, true));
  await waitFor(
    `the HPA of ${RATE} reads its request rate`,
    async () => ((await rateStatusOf()).perPod !== undefined ? true : undefined),
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  await env.profiles.create(
    profileOf(RATE, { requestRate: { metricName: requestRateMetricName, ...RATE_BOUNDS } }),
  );
  await env.startOperator('live-hpa-1');
}, 420_000);

afterAll(async () => {
  for (const p of pollers) await p.stop();
  await env?.stop();
  console.log(
    `live HPA target timings (ms): ${JSON.stringify(timings)}; outcome: ${JSON.stringify(outcome)}`,
  );
  mkdirSync('.testenv', { recursive: true });
  writeFileSync('.testenv/live-hpa-target-operator.log', env?.logLines.join('') ?? '');
});

describe('the HPA CPU target on live components', () => {
  it('holds the target of an HPA without a cpu Utilization metric, and says why', async () => {
    const p = await env.waitForProfile(
      NO_CPU,
      'the held CPU target named',
      (p) => (condition(p, 'Ready')?.message ?? '').includes('not tuned: hpaTargetCpuPercent'),
      4 * evaluationMs,
    );
    expect(condition(p, 'Ready')?.message).toContain(
      `not tuned: hpaTargetCpuPercent (HorizontalPodAutoscaler ${NO_CPU} has no Resource cpu metric with target.type Utilization: the HPA's target is held)`,
    );
    expect((await hpaOf(NO_CPU)).spec?.metrics).toEqual(written[NO_CPU]);
  }, 60_000);

  it(
    'raises the target once pods ran at it within the SLO, keeping every other metric and field the user wrote',
    async () => {
      // 24 pods at 62 % (the HPA's reading, in whole percent) against 60 %: inside its tolerance.
      const before = await hpaStatusOf(TUNED);
      expect(before).toMatchObject({ desiredReplicas: PODS, currentReplicas: PODS });
      expect(before.cpuPercent).toBeGreaterThanOrEqual(61);
      expect(before.cpuPercent).toBeLessThanOrEqual(63);
      hpaReadBefore = before.cpuPercent ?? 0;
      const started = Date.now();
      const raised = await waitFor(
        `${TUNED}'s HPA cpu target raised from ${START_TARGET}`,
        async () => {
          const hpa = await hpaOf(TUNED);
          if ((cpuTargetOf(hpa) ?? 0) > START_TARGET) return hpa;
          const p = await env.profiles.get(ns, TUNED);
          throw new Error(
            `target ${cpuTargetOf(hpa)}; ${p.status?.conditions?.map((c) => `${c.type}: ${c.message}`).join(' | ')}`,
          );
        },
        { timeoutMs: historyMs, intervalMs: 1000 },
      );
      timings.targetRaised = Date.now() - started;
      const target = cpuTargetOf(raised) ?? 0;
      outcome.target = target;
      // One bin past the CPU seen (62.5 %): the HPA's own 2 % tolerance acts on it. Within 50..85 %.
      expect(target).toBeGreaterThan(START_TARGET);
      expect(target).toBeLessThanOrEqual(70);
      // The list as the user wrote it, with only that target changed: the External metric byte for byte.
      const [cpu, external] = written[TUNED] ?? [];
      expect(externalJson).toContain(`"name":"${requestRateMetricName}"`);
      expect(await metricJson(TUNED, 1)).toBe(externalJson);
      expect(raised.spec?.metrics).toEqual([
        {
          ...cpu,
          resource: { ...cpu?.resource, target: { ...cpu?.resource?.target, averageUtilization: target } },
        },
        external,
      ]);
      expect(raised.spec?.behavior?.scaleDown).toMatchObject({
        stabilizationWindowSeconds: 0,
        tolerance: '20m',
      });
      // perfpilot owns spec.metrics (the atomic list), the user's manager the rest of the spec.
      expect(specFieldsOf(raised, 'perfpilot')).toEqual(
        expect.arrayContaining(['f:metrics', 'f:minReplicas', 'f:maxReplicas']),
      );
      expect(specFieldsOf(raised, 'gitops')).not.toContain('f:metrics');
      expect(specFieldsOf(raised, 'gitops')).toEqual(
        expect.arrayContaining(['f:scaleTargetRef', 'f:behavior']),
      );

      // The change and its reason, in status history and an Event.
      const p = await env.waitForProfile(
        TUNED,
        'the change in status history',
        (p) => (p.status?.history ?? []).some((d) => d.knob === 'hpaTargetCpuPercent'),
        2 * evaluationMs,
      );
      const entry = p.status?.history?.find((d) => d.knob === 'hpaTargetCpuPercent');
      expect(entry).toMatchObject({ from: START_TARGET, to: target, outcome: 'Applied' });
      expect(entry?.reason).toMatch(
        new RegExp(
          `^HPA target ${START_TARGET} % → ${target} %: pods met p95 within 90 % of 200 ms up to \\d+ % CPU \\(p95 \\d+ ms there, within 50 % of the SLO: one 5-point bin more, \\d+ %\\); the load grew up to [\\d.]+× within the 85 s lead`,
        ),
      );
      // The HPA's own 2 % scale-down tolerance was read: the step needs no push past the default 10 %.
      expect(entry?.reason).not.toMatch(/tolerance/);
      const events = await env.eventsOf(TUNED);
      expect(
        events.find(
          (e) =>
            e.reason === 'Applied' &&
            e.note.startsWith(
              `hpaTargetCpuPercent ${START_TARGET} → ${target} (HorizontalPodAutoscaler ${ns}/${TUNED} applied): HPA target ${START_TARGET} % → ${target} %: pods met p95`,
            ),
        ),
      ).toBeDefined();
      expect(condition(p, 'Ready')?.message).toContain(`HPA CPU target ${target} %`);
    },
    historyMs + 60_000,
  );

  it(
    'the real HPA controller scales to the new target: fewer pods for the same CPU',
    async () => {
      const target = cpuTargetOf(await hpaOf(TUNED)) ?? 0;
      expect(target).toBeGreaterThan(START_TARGET);
      const started = Date.now();
      const after = await waitFor(
        `${TUNED}'s HPA wants fewer than ${PODS} pods at ${target} %`,
        async () => {
          const s = await hpaStatusOf(TUNED);
          if ((s.desiredReplicas ?? PODS) < PODS) return s;
          throw new Error(JSON.stringify(s));
        },
        { timeoutMs: hpaFollowsMs, intervalMs: 250 },
      );
      timings.hpaFollowedWaited = Date.now() - started;
      // From the operator's decision to the HPA's scale, as both record them.
      const decided = (await env.profiles.get(ns, TUNED)).status?.history?.find(
        (d) => d.knob === 'hpaTargetCpuPercent',
      );
      const scaledAt = (await hpaOf(TUNED)).status?.lastScaleTime;
      const lagMs = new Date(scaledAt ?? 0).getTime() - Date.parse(decided?.time ?? '');
      timings.hpaScaledAfterDecision = lagMs;
      expect(lagMs).toBeGreaterThanOrEqual(-1000); // lastScaleTime has whole seconds
      expect(lagMs).toBeLessThanOrEqual(hpaFollowsMs);
      outcome.desiredReplicas = after.desiredReplicas ?? 0;
      outcome.hpaUtilizationPercent = hpaReadBefore;
      // The HPA's formula: ceil(pods × utilization / target), with the utilization it read at 24
      // pods, is where it goes first; while the pods change, its windowed CPU may take it one step
      // further, never below what the load needs at the new target within the HPA's default 10 %
      // scale-up tolerance. Not its bounds, which leave room on both sides.
      expect(after.desiredReplicas).toBeLessThanOrEqual(Math.ceil((PODS * hpaReadBefore) / target));
      expect(after.desiredReplicas).toBeGreaterThanOrEqual(Math.ceil(CORES / ((target / 100) * 1.1)));
      const bounds = (await hpaOf(TUNED)).spec;
      expect(bounds?.maxReplicas).toBeGreaterThanOrEqual(PODS);
      expect(bounds?.minReplicas).toBeLessThan(after.desiredReplicas ?? 0);
      await waitFor(
        `the Deployment at ${after.desiredReplicas} ready pods`,
        async () => ((await readyPodsOf(TUNED)).length === after.desiredReplicas ? true : undefined),
        { timeoutMs: hpaFollowsMs, intervalMs: 500 },
      );
      expect((await env.deploymentOf(TUNED)).spec?.replicas).toBe(after.desiredReplicas);
      // The same CPU under the target the user wrote keeps every pod.
      expect(await hpaStatusOf(HELD)).toMatchObject({ desiredReplicas: PODS, currentReplicas: PODS });
    },
    2 * hpaFollowsMs + 10_000,
  );

  it('without spec.knobs.hpaTarget the target is held as written, and Ready lists no problem for it', async () => {
    const hpa = await hpaOf(HELD);
    expect(hpa.spec?.metrics).toEqual(written[HELD]);
    expect(specFieldsOf(hpa, 'perfpilot')).not.toContain('f:metrics');
    const p = await env.profiles.get(ns, HELD);
    // An opt-in knob left off is no problem: Ready keeps its room for those that are.
    expect(condition(p, 'Ready')?.message).not.toContain('hpaTargetCpuPercent');
    expect((p.status?.history ?? []).filter((d) => d.knob === 'hpaTargetCpuPercent')).toEqual([]);
    // It was evaluated all along, on the same signals that raised the other target.
    expect(Date.parse(p.status?.lastSnapshot?.time ?? '')).toBeGreaterThan(Date.now() - 3 * evaluationMs);
  });
});

describe('the HPA request-rate target on live components', () => {
  it(
    'raises the target once pods served that rate within the SLO, where the HPA reads the same requests',
    async () => {
      // 20 pods share 2,000 requests/s: the HPA reads 100 a pod against its 100, and keeps them.
      const before = await rateStatusOf();
      expect(before).toMatchObject({ desiredReplicas: RATE_PODS, currentReplicas: RATE_PODS });
      expect(before.perPod).toBeGreaterThanOrEqual(95);
      expect(before.perPod).toBeLessThanOrEqual(105);
      const started = Date.now();
      const raised = await waitFor(
        `${RATE}'s HPA request-rate target raised from ${RATE_START}`,
        async () => {
          const hpa = await hpaOf(RATE);
          if ((rateTargetOf(hpa) ?? 0) > RATE_START) return hpa;
          const p = await env.profiles.get(ns, RATE);
          throw new Error(
            `target ${rateTargetOf(hpa)}; ${p.status?.conditions?.map((c) => `${c.type}: ${c.message}`).join(' | ')}`,
          );
        },
        { timeoutMs: historyMs, intervalMs: 1000 },
      );
      timings.rateTargetRaised = Date.now() - started;
      const target = rateTargetOf(raised) ?? 0;
      outcome.rateTarget = target;
      // One 15-rps bin past the rate seen (100 a pod): the HPA's own 2 % tolerance acts on it.
      expect(target).toBeGreaterThan(RATE_START);
      expect(target).toBeLessThanOrEqual(RATE_START + 2 * 15);
      // The metric as the user wrote it, with only its averageValue changed.
      const [external] = written[RATE] ?? [];
      expect(raised.spec?.metrics).toEqual([
        {
          ...external,
          external: {
            ...external?.external,
            target: { ...external?.external?.target, averageValue: String(target) },
          },
        },
      ]);
      const p = await env.waitForProfile(
        RATE,
        'the change in status history',
        (p) => (p.status?.history ?? []).some((d) => d.knob === 'hpaTargetRequestsPerPod'),
        2 * evaluationMs,
      );
      const entry = p.status?.history?.find((d) => d.knob === 'hpaTargetRequestsPerPod');
      expect(entry).toMatchObject({ from: RATE_START, to: target, outcome: 'Applied' });
      expect(entry?.reason).toMatch(
        new RegExp(
          `^HPA request-rate target ${RATE_START} rps a pod → ${target} rps a pod: pods met p95 within 90 % of 200 ms up to \\d+ rps a pod`,
        ),
      );
      const events = await env.eventsOf(RATE);
      expect(
        events.find(
          (e) =>
            e.reason === 'Applied' &&
            e.note.startsWith(
              `hpaTargetRequestsPerPod ${RATE_START} → ${target} (HorizontalPodAutoscaler ${ns}/${RATE} applied): HPA request-rate target`,
            ),
        ),
      ).toBeDefined();
      expect(condition(p, 'Ready')?.message).toContain(`HPA rate target ${target}/pod`);
      // Neither target is a problem: the HPA scales on the request rate alone, with no CPU target.
      expect(condition(p, 'Ready')?.message).not.toContain('hpaTargetRequestsPerPod');
      expect(condition(p, 'Ready')?.message).not.toContain('hpaTargetCpuPercent');
    },
    historyMs + 60_000,
  );

  it(
    'the real HPA controller scales to the new target: fewer pods for the same requests',
    async () => {
      const target = rateTargetOf(await hpaOf(RATE)) ?? 0;
      expect(target).toBeGreaterThan(RATE_START);
      const started = Date.now();
      const after = await waitFor(
        `${RATE}'s HPA wants fewer than ${RATE_PODS} pods at ${target} a pod`,
        async () => {
          const s = await rateStatusOf();
          if ((s.desiredReplicas ?? RATE_PODS) < RATE_PODS) return s;
          throw new Error(JSON.stringify(s));
        },
        { timeoutMs: hpaFollowsMs, intervalMs: 250 },
      );
      timings.rateHpaFollowedWaited = Date.now() - started;
      outcome.rateDesiredReplicas = after.desiredReplicas ?? 0;
      // An External AverageValue target: desired = ceil(total rate / target), within the HPA's
      // default 10 % scale-up tolerance while its windowed rate settles.
      expect(after.desiredReplicas).toBeLessThanOrEqual(Math.ceil(RATE_RPS / target));
      expect(after.desiredReplicas).toBeGreaterThanOrEqual(Math.ceil(RATE_RPS / (target * 1.1)));
      await waitFor(
        `the Deployment at ${after.desiredReplicas} ready pods`,
        async () => ((await readyPodsOf(RATE)).length === after.desiredReplicas ? true : undefined),
        { timeoutMs: hpaFollowsMs, intervalMs: 500 },
      );
      // The operator still finds the HPA's reading in agreement: the target is not held.
      const p = await env.waitForProfile(
        RATE,
        'a reconcile after the scale-down',
        (p) => Date.parse(p.status?.lastSnapshot?.time ?? '') > Date.now() - evaluationMs,
        3 * evaluationMs,
      );
      expect(condition(p, 'Ready')?.message).not.toContain('not the same requests');
    },
    3 * hpaFollowsMs + 10_000,
  );
});
