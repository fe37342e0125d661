/**
 * The operator against a real API server: status with observedGeneration and conditions, spec
 * changes, target changes, pause, a missing target, and the finalizer that restores the original
 * knobs when a profile in Auto mode is deleted.
 */
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  EventsV1Api,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CONFIG_HASH_ANNOTATION,
  FINALIZER,
  ORIGINAL_VALUES_ANNOTATION,
  type PerformanceProfile,
} from '../../operator/src/api/v1alpha1/index.ts';
import { type RunningOperator, startOperator } from '../../operator/src/controller/operator.ts';
import { createLogger } from '../../operator/src/telemetry/logger.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { createNamespace } from '../cluster/kube.ts';
import {
  createTargetStack,
  installCrd,
  ProfileBuilder,
  profileApi,
  readStackKnobs,
  SEED_KNOBS,
  SEED_KNOBS_OBSERVED,
  STACK_HPA_TARGET_PERCENT,
} from './fixtures.ts';

const ns = 'shop';
let cp: ControlPlane;
let operator: RunningOperator;
let profiles: ReturnType<typeof profileApi>;

const condition = (p: PerformanceProfile, type: string) => p.status?.conditions?.find((c) => c.type === type);

async function waitForProfile(name: string, check: (p: PerformanceProfile) => void, timeout = 15_000) {
  return await vi.waitFor(
    async () => {
      const p = await profiles.get(ns, name);
      check(p);
      return p;
    },
    { timeout, interval: 100 },
  );
}

/** reconciles is the operator's count of finished reconciles, from its /metrics. */
async function reconciles(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`)).text();
  return [...text.matchAll(/^perfpilot_reconcile_total\{[^}]*\} (\S+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

async function eventReasons(name: string): Promise<string[]> {
  const list = await cp.kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: ns });
  return list.items.filter((e) => e.regarding?.name === name).map((e) => e.reason ?? '');
}

beforeAll(async () => {
  cp = await startControlPlane();
  await installCrd(cp);
  await createNamespace(cp.kubeConfig, ns);
  await createTargetStack(cp.kubeConfig, ns, 'risk-api');
  profiles = profileApi(cp.kubeConfig);
  operator = await startOperator({
    kubeConfig: cp.kubeConfig,
    namespaces: [ns],
    identity: 'operator-test',
    leaderElection: false,
    metricsPort: 0,
    healthPort: 0,
    // The tests below scrape /metrics themselves; test/integration/metrics-auth.test.ts covers the secure server.
    secureMetrics: false,
    metricsHost: '127.0.0.1',
    logger: createLogger({ level: 'silent' }),
  });
});

afterAll(async () => {
  await operator?.stop();
  await cp?.stop();
});

describe('reconcile', () => {
  it('writes status with observedGeneration, conditions and the observed knobs, and in Recommend leaves the target alone', async () => {
    await profiles.create(new ProfileBuilder(ns, 'main', 'risk-api').build());
    const p = await waitForProfile('main', (p) => expect(p.status?.observedGeneration).toBe(1));
    expect(p.status?.current).toEqual(SEED_KNOBS_OBSERVED);
    expect(condition(p, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Reconciled',
      observedGeneration: 1,
    });
    expect(condition(p, 'MetricsAvailable')).toMatchObject({ status: 'Unknown', reason: 'NoMetricsSource' });
    expect(condition(p, 'SLOMet')).toMatchObject({ status: 'Unknown' });
    expect(condition(p, 'Paused')).toMatchObject({ status: 'False' });
    expect(p.status?.knobsSummary).toBe(
      `pool 20+30, replicas 2-10, HPA CPU target ${STACK_HPA_TARGET_PERCENT} %`,
    );
    expect(p.status?.recommended).toBeUndefined();
    // Only Auto changes knobs, so only Auto records originals to restore: one status write, no more.
    expect(p.metadata.finalizers ?? []).not.toContain(FINALIZER);
    expect(p.metadata.annotations?.[ORIGINAL_VALUES_ANNOTATION]).toBeUndefined();
    expect(await eventReasons('main')).not.toContain('TookOver');
  });

  it('reconciles again when the spec changes', async () => {
    await profiles.update(ns, 'main', (current) => {
      current.spec.policy.evaluationIntervalSeconds = 120;
    });
    await waitForProfile('main', (p) => {
      expect(p.metadata.generation).toBe(2);
      expect(p.status?.observedGeneration).toBe(2);
      expect(condition(p, 'Ready')?.observedGeneration).toBe(2);
    });
  });

  it('sees a change of the HPA made by someone else', async () => {
    const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
    await objects.patch(
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'risk-api', namespace: ns },
        spec: { minReplicas: 3 },
      } as KubernetesObject,
      undefined,
      undefined,
      'kubectl-edit',
      true,
      PatchStrategy.ServerSideApply,
    );
    await waitForProfile('main', (p) => expect(p.status?.current?.minReplicas).toBe(3));
  });

  it('reports Paused=True while paused and Paused=False after', async () => {
    await profiles.update(ns, 'main', (current) => {
      current.metadata.annotations = { ...current.metadata.annotations, 'perfpilot.dev/paused': 'true' };
    });
    await waitForProfile('main', (p) =>
      expect(condition(p, 'Paused')).toMatchObject({ status: 'True', reason: 'PausedByAnnotation' }),
    );
    await profiles.update(ns, 'main', (paused) => {
      delete paused.metadata.annotations?.['perfpilot.dev/paused'];
    });
    await waitForProfile('main', (p) => expect(condition(p, 'Paused')).toMatchObject({ status: 'False' }));
  });

  it('reports a missing target as Ready=False and Degraded=True, with a Warning event', async () => {
    await profiles.create(new ProfileBuilder(ns, 'orphan', 'no-such-api').build());
    const p = await waitForProfile('orphan', (p) =>
      expect(condition(p, 'Ready')).toMatchObject({ status: 'False', reason: 'TargetNotFound' }),
    );
    expect(condition(p, 'Degraded')).toMatchObject({ status: 'True', reason: 'TargetNotFound' });
    expect(condition(p, 'Ready')?.message).toContain('Deployment no-such-api');
    expect(p.metadata.finalizers ?? []).not.toContain(FINALIZER);
    await vi.waitFor(async () => expect(await eventReasons('orphan')).toContain('TargetNotFound'), {
      timeout: 5000,
    });
  });

  it('says which signals it could not measure from the Prometheus it names, rather than pretending', async () => {
    const profile = new ProfileBuilder(ns, 'with-prometheus', 'risk-api').build();
    profile.spec.metrics = {
      prometheus: { url: 'http://prometheus.monitoring:9090' },
    } as PerformanceProfile['spec']['metrics'];
    await profiles.create(profile);
    const p = await waitForProfile('with-prometheus', (p) =>
      expect(condition(p, 'MetricsAvailable')).toMatchObject({
        status: 'False',
        reason: 'MetricsUnavailable',
      }),
    );
    const message = condition(p, 'MetricsAvailable')?.message ?? '';
    expect(message).toMatch(
      /^Prometheus at http:\/\/prometheus\.monitoring:9090 unreachable \((ENOTFOUND|EAI_AGAIN)\): \d+ signals unknown/,
    );
    expect(p.status?.recommended).toBeUndefined();
  });

  it('writes nothing while nothing changes, across whole evaluation intervals', async () => {
    const profile = new ProfileBuilder(ns, 'quiet', 'risk-api').build();
    // The CRD's shortest interval, so the window below holds two requeued evaluations.
    profile.spec.policy = { evaluationIntervalSeconds: 10 } as PerformanceProfile['spec']['policy'];
    await profiles.create(profile);
    const before = await waitForProfile('quiet', (p) => expect(p.status?.observedGeneration).toBe(1));
    const intervalMs = (before.spec.policy.evaluationIntervalSeconds ?? 0) * 1000;
    expect(intervalMs).toBe(10_000);
    const reconciled = await reconciles();
    // Two intervals and a little: at least one evaluation requeued after the first write, and its
    // successor, each finding the status as it wants it.
    await new Promise((r) => setTimeout(r, 2 * intervalMs + 2000));
    expect(await reconciles()).toBeGreaterThan(reconciled);
    const after = await profiles.get(ns, 'quiet');
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const managedFields = (p: PerformanceProfile) => (p.metadata as V1ObjectMeta).managedFields;
    // The operator's status write is on record, with its time: a later write would change it.
    expect(managedFields(before)?.filter((m) => m.subresource === 'status')).toHaveLength(1);
    expect(managedFields(after)).toEqual(managedFields(before));
    expect(await eventReasons('quiet')).toEqual([]);
  }, 45_000);
});

describe('deletion', () => {
  it('in Auto mode restores the original knobs, then lets the profile go', async () => {
    await createTargetStack(cp.kubeConfig, ns, 'tuned-api');
    await profiles.create(new ProfileBuilder(ns, 'auto', 'tuned-api').mode('Auto').build());
    const taken = await waitForProfile('auto', (p) => expect(p.metadata.finalizers).toContain(FINALIZER));
    expect(JSON.parse(taken.metadata.annotations?.[ORIGINAL_VALUES_ANNOTATION] ?? '{}')).toEqual(
      SEED_KNOBS_OBSERVED,
    );
    await vi.waitFor(async () => expect(await eventReasons('auto')).toContain('TookOver'), { timeout: 5000 });
    // The knobs as a tuning operator would have left them.
    const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
    const apply = (o: object) =>
      objects.patch(
        o as KubernetesObject,
        undefined,
        undefined,
        'perfpilot',
        true,
        PatchStrategy.ServerSideApply,
      );
    await apply({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'tuned-api', namespace: ns },
      spec: { minReplicas: 4, maxReplicas: 12 },
    });
    await apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'tuned-api-tuning', namespace: ns },
      data: { DB_POOL_SIZE: '8', DB_MAX_OVERFLOW: '4' },
    });
    expect(await readStackKnobs(cp.kubeConfig, ns, 'tuned-api')).toEqual({
      poolSize: 8,
      maxOverflow: 4,
      minReplicas: 4,
      maxReplicas: 12,
    });

    await profiles.delete(ns, 'auto');
    await vi.waitFor(
      async () => {
        const gone = await profiles.get(ns, 'auto').catch((e: unknown) => e);
        expect(gone instanceof ApiException && gone.code === 404).toBe(true);
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(await readStackKnobs(cp.kubeConfig, ns, 'tuned-api')).toEqual(SEED_KNOBS);
    const deployment = await cp.kubeConfig
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ namespace: ns, name: 'tuned-api' });
    expect(deployment.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION]).toMatch(
      /^[0-9a-f]{16}$/,
    );
    const configMap = await cp.kubeConfig
      .makeApiClient(CoreV1Api)
      .readNamespacedConfigMap({ namespace: ns, name: 'tuned-api-tuning' });
    expect(configMap.data?.ASYNC_WORKERS).toBe('4');
    expect(await eventReasons('auto')).toContain('Restored');
  });

  it('in Recommend mode changes nothing and lets the profile go', async () => {
    await createTargetStack(cp.kubeConfig, ns, 'watched-api', { ...SEED_KNOBS, minReplicas: 3 });
    await profiles.create(new ProfileBuilder(ns, 'recommend', 'watched-api').build());
    await waitForProfile('recommend', (p) => {
      expect(p.status?.observedGeneration).toBe(1);
      expect(p.metadata.finalizers ?? []).not.toContain(FINALIZER);
    });
    await profiles.delete(ns, 'recommend');
    await vi.waitFor(
      async () => {
        const gone = await profiles.get(ns, 'recommend').catch((e: unknown) => e);
        expect(gone instanceof ApiException && gone.code === 404).toBe(true);
      },
      { timeout: 15_000, interval: 100 },
    );
    expect((await readStackKnobs(cp.kubeConfig, ns, 'watched-api')).minReplicas).toBe(3);
  });
});

describe('API server restart under the running operator', () => {
  it('reconciles the changes made while its watches were down, after the API server comes back', async () => {
    await profiles.create(new ProfileBuilder(ns, 'outage', 'risk-api').build());
    await waitForProfile('outage', (p) => expect(p.status?.observedGeneration).toBe(1));
    const metric = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`)).text();
      return [
        ...text.matchAll(
          new RegExp(`^${name}\\{[^}]*resource="performanceprofiles.perfpilot.dev"[^}]*\\} (\\S+)$`, 'gm'),
        ),
      ]
        .map((m) => Number(m[1]))
        .reduce((a, b) => a + b, 0);
    };
    const restartsBefore = await metric('perfpilot_watch_restarts_total');

    await cp.stopApiServer();
    // Long enough for the operator to notice and back off.
    await new Promise((r) => setTimeout(r, 1500));
    await cp.startApiServer();
    // Written before the operator's watch is back: only a resumed watch or a relist shows them.
    await profiles.update(ns, 'outage', (outage) => {
      outage.spec.mode = 'Observe';
    });
    await profiles.create(new ProfileBuilder(ns, 'born-in-outage', 'risk-api').build());

    await waitForProfile('outage', (p) => expect(p.status?.observedGeneration).toBe(2), 45_000);
    await waitForProfile('born-in-outage', (p) => expect(p.status?.observedGeneration).toBe(1), 45_000);
    expect(await metric('perfpilot_watch_restarts_total')).toBeGreaterThan(restartsBefore);
  }, 60_000);
});

describe('metrics endpoint', () => {
  it('serves the knob gauges of each profile', async () => {
    const text = await (await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`)).text();
    expect(text).toMatch(
      /perfpilot_knob_value\{[^}]*profile="main"[^}]*knob="poolSize"[^}]*kind="current"[^}]*\} 20/,
    );
    expect(text).toContain('perfpilot_reconcile_total');
  });
});
