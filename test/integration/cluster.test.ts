/**
 * The test cluster acts like one: kube-controller-manager gives a Deployment its Pods, kwok makes
 * them Running on its fake Node, and the real HPA controller scales on a request rate that a real
 * Prometheus computed and prometheus-adapter served through the aggregation layer.
 */
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestRateMetricName, requestRateSeries } from '../../charts-ts/src/request-rate-metric.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { startTestExporter, type TestExporter } from '../cluster/exporter.ts';
import { isAlive, waitFor } from '../cluster/processes.ts';
import { type PrometheusServer, startPrometheus } from '../cluster/prometheus.ts';

/** Named timeouts: what a user of the harness may wait for. */
const podsReadyMs = 60_000;
const hpaFollowsMs = 60_000;
const targetPerPod = 100;
/** A test waits for several of these in a row. */
const testTimeout = { timeout: 4 * hpaFollowsMs };

/**
 * A request counter whose value grows at the rate the test sets, as a served API's would: the
 * value at each scrape is the integral of the rate, so Prometheus's rate() gives it back.
 */
function requestCounter(exporter: TestExporter, namespace: string) {
  let base = 0;
  let since = Date.now();
  let rate = 0;
  const total = () => base + (rate * (Date.now() - since)) / 1000;
  new Counter({
    name: requestRateSeries,
    help: 'requests served',
    labelNames: ['namespace'],
    registers: [exporter.registry],
    collect() {
      this.reset();
      this.inc({ namespace }, total());
    },
  });
  return {
    setRate(perSecond: number) {
      base = total();
      since = Date.now();
      rate = perSecond;
    },
  };
}

function hpaFor(namespace: string, min: number, max: number): V2HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'api', namespace },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
      minReplicas: min,
      maxReplicas: max,
      // Scale down at once: the test changes the rate and waits for the new size.
      behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
      metrics: [
        {
          type: 'External',
          external: {
            metric: { name: requestRateMetricName },
            target: { type: 'AverageValue', averageValue: String(targetPerPod) },
          },
        },
      ],
    },
  };
}

describe('test cluster with controllers, kwok and a metrics adapter', () => {
  let cp: ControlPlane;
  let prometheus: PrometheusServer;
  let exporter: TestExporter;
  const namespace = 'scaling';
  let load: ReturnType<typeof requestCounter>;

  beforeAll(async () => {
    exporter = await startTestExporter();
    load = requestCounter(exporter, namespace);
    prometheus = await startPrometheus({ scrapeTargets: [{ address: exporter.address }] });
    cp = await startControlPlane({ controllers: true });
    await cp.startMetricsAdapter({ prometheusUrl: prometheus.url });
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await cp.kubeConfig.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'api' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'api' } },
          template: {
            metadata: { labels: { app: 'api' } },
            spec: { containers: [{ name: 'api', image: 'registry.example/risk-api:0.1.0' }] },
          },
        },
      },
    });
  });

  afterAll(async () => {
    await cp?.stop();
    await prometheus?.stop();
    await exporter?.stop();
  });

  /** applyBounds server-side applies the HPA's bounds only, as field manager perfpilot. */
  const applyBounds = async (minReplicas: number, maxReplicas: number, { force }: { force: boolean }) =>
    await KubernetesObjectApi.makeApiClient(cp.kubeConfig).patch(
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'api', namespace },
        spec: { minReplicas, maxReplicas },
      } as V2HorizontalPodAutoscaler,
      undefined,
      undefined,
      'perfpilot',
      force,
      PatchStrategy.ServerSideApply,
    );
  const hpaStatus = async () =>
    (
      await cp.kubeConfig.makeApiClient(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({
        namespace,
        name: 'api',
      })
    ).status;
  const readyReplicas = async () =>
    (await cp.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace, name: 'api' })).status
      ?.readyReplicas ?? 0;
  const waitForReplicas = (want: number, timeoutMs: number) =>
    waitFor(
      `${want} ready replicas and an HPA that wants ${want}`,
      async () => {
        const [ready, status] = [await readyReplicas(), await hpaStatus()];
        if (ready === want && status?.desiredReplicas === want && status.currentReplicas === want)
          return true;
        // What it saw last becomes the timeout's message.
        const value = status?.currentMetrics?.[0]?.external?.current.averageValue;
        const conditions = status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`);
        throw new Error(
          `ready ${ready}, HPA current ${status?.currentReplicas} desired ${status?.desiredReplicas}, metric average ${value}; ${conditions?.join('; ')}`,
        );
      },
      { timeoutMs, intervalMs: 500 },
    );

  it(
    'scales a Deployment to the HPA floor with Pods Running on the fake Node, and follows a raised floor',
    testTimeout,
    async () => {
      load.setRate(0);
      await cp.kubeConfig.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
        namespace,
        body: hpaFor(namespace, 3, 5),
      });
      await waitForReplicas(3, podsReadyMs);
      const pods = await cp.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace });
      expect(pods.items).toHaveLength(3);
      for (const pod of pods.items) {
        expect(pod.spec?.nodeName).toBe(cp.nodeName);
        expect(pod.status?.phase).toBe('Running');
        // Every address kwok hands out is on loopback.
        expect(pod.status?.podIP).toMatch(/^127\./);
        expect(pod.status?.hostIP).toBe('127.0.0.1');
      }

      // Server-side apply of the bounds only, as perfpilot. Forced this once: it takes both fields
      // over from their creator (a field applied with an equal value would stay shared, and the
      // creator's claim would make later changes conflict); the next test's change needs no force.
      await applyBounds(4, 6, { force: true });
      await waitForReplicas(4, podsReadyMs);
      const status = await hpaStatus();
      expect(status?.currentMetrics?.[0]?.external?.metric.name).toBe(requestRateMetricName);
    },
  );

  it(
    'wants ceil(rate / target) replicas for a rate Prometheus computed, and stops at maxReplicas',
    testTimeout,
    async () => {
      // 450 requests/s against 100 per pod: ceil(4.5) = 5 replicas, inside the bounds 4..6.
      load.setRate(450);
      await waitForReplicas(5, hpaFollowsMs);
      const served = await prometheus.waitForSeries(`sum(rate(${requestRateSeries}[10s]))`);
      expect(served).toBeGreaterThan(400);
      expect(served).toBeLessThan(500);

      await applyBounds(2, 8, { force: false });
      // 250/s: ceil(2.5) = 3, a scale-down the wider bounds now allow. (The HPA keeps its size
      // while rate / (target × replicas) is within its 10 % tolerance; these rates sit far from it.)
      load.setRate(250);
      await waitForReplicas(3, hpaFollowsMs);
      // 2,000/s: 20 wanted, stopped at maxReplicas 8.
      load.setRate(2000);
      await waitForReplicas(8, hpaFollowsMs);
      const limited = await hpaStatus();
      expect(limited?.conditions?.find((c) => c.type === 'ScalingLimited')?.status).toBe('True');
    },
  );

  it('stop() leaves no process and no directory', async () => {
    const { existsSync, readFileSync } = await import('node:fs');
    const pids = readFileSync(`${cp.dir}/pids`, 'utf8').trim().split('\n').map(Number);
    expect(pids.length).toBeGreaterThanOrEqual(6); // etcd, apiserver, kcm, scheduler, kwok, adapter
    const dir = cp.dir;
    await cp.stop();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
