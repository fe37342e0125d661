/**
 * Adopting a service PerfPilot did not generate, on real components: a control plane with
 * kube-controller-manager, the scheduler and kwok (the real HPA and Deployment controllers act),
 * KEDA's own ScaledObject CRD from its Go module, Debian's Prometheus scraping one test exporter
 * per service, and the operator started in-process as main starts it. The "shop" namespace is
 * written by hand here, as its owner would have it (the toolkit writes none of these objects):
 * Deployments whose HikariCP pool size (Spring's env var) is a plain value with no overflow, their HPAs, and one
 * HPA that a KEDA ScaledObject owns. No profile names Redis: the pool and the replica bounds are
 * tuned from Prometheus alone. The Redis forms have their own files: adopt-redis.test.ts and
 * adopt-sentinel.test.ts.
 *
 * Before Auto, the owner hands the fields perfpilot writes over to it the way `perfpilot doctor`
 * says to: the creator's managedFields let go of them, then perfpilot applies them at their
 * current values, so nothing changes and no pod rolls.
 */
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type V1ManagedFieldsEntry,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, KIND, type PerformanceProfile } from '../../operator/src/api/v1alpha1/index.ts';
import type { RunningOperator } from '../../operator/src/controller/operator.ts';
import { startOperator } from '../../operator/src/controller/operator.ts';
import { createLogger } from '../../operator/src/telemetry/logger.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import {
  driveRiskApiSeries,
  type RiskApiTraffic,
  startTestExporter,
  type TestExporter,
} from '../cluster/exporter.ts';
import { waitFor } from '../cluster/processes.ts';
import { type PrometheusServer, startPrometheus } from '../cluster/prometheus.ts';
import { installScaledObjectCrd } from '../keda/scaled-object-crd.ts';
import { installCrd, profileApi } from './fixtures.ts';
import { BUSY, condition, SHORT_WINDOW_QUERIES } from './live-env.ts';

const ns = 'shop';
/** HikariCP's pool size as Spring Boot reads it from the environment: what `perfpilot init` recognises. */
const HIKARI = 'SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE';
const CONTAINER = 'app';
/** Named timeouts: what a user may wait for. */
const evaluationMs = 10_000;
const appliedWithinMs = 4 * evaluationMs;
const podsFollowMs = 60_000;

/** The shop's services, each with its exporter's series. */
const SERVICES: Record<string, Partial<RiskApiTraffic>> = {
  // A quiet service whose 9 connections are 8.1 busy on each pod (90 % > the 80 % SLO).
  orders: { cpuSecondsPerTick: 0.025, activeConnections: [8.1, 8.1] },
  // Busy: 2,000 rps on two pods at 100 % CPU, more than their HPA's 2..4 plan for.
  catalog: BUSY,
  // Busy too, behind PgBouncer (pool: none), scaled by KEDA.
  search: BUSY,
};

let cp: ControlPlane;
let prometheus: PrometheusServer;
let operator: RunningOperator | undefined;
const exporters = new Map<string, TestExporter>();
const traffic: { stop(): void }[] = [];
let objects: KubernetesObjectApi;
let apps: AppsV1Api;
let autoscaling: AutoscalingV2Api;
let custom: CustomObjectsApi;
let profiles: ReturnType<typeof profileApi>;

/** createService writes the Deployment `name` by hand, its pool size a plain env var (no overflow). */
async function createService(name: string, poolSize: number): Promise<void> {
  const labels = { 'app.kubernetes.io/name': name };
  await apps.createNamespacedDeployment({
    namespace: ns,
    fieldManager: 'shop-admin',
    body: {
      metadata: { name, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 10001,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: CONTAINER,
                image: `shop/${name}:1.4.2`,
                env: [
                  { name: 'SPRING_PROFILES_ACTIVE', value: 'prod' },
                  { name: HIKARI, value: String(poolSize) },
                ],
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ['ALL'] },
                  readOnlyRootFilesystem: true,
                },
              },
            ],
          },
        },
      },
    },
  });
}

/** createHpa writes an autoscaling/v2 HPA of `target` on CPU, 2..4, optionally owned by a ScaledObject. */
async function createHpa(name: string, target: string, owner?: { name: string; uid: string }): Promise<void> {
  await autoscaling.createNamespacedHorizontalPodAutoscaler({
    namespace: ns,
    fieldManager: owner ? 'keda-operator' : 'shop-admin',
    body: {
      metadata: {
        name,
        ...(owner
          ? {
              ownerReferences: [
                { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', ...owner, controller: true },
              ],
            }
          : {}),
      },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
        minReplicas: 2,
        maxReplicas: 4,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
          },
        ],
      },
    },
  });
}

/** A JSON pointer segment (RFC 6901). */
const pointer = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * handOver gives the fields at `paths` (managedFields paths) of an object to perfpilot, values
 * unchanged, as `perfpilot doctor` prints it: the manager that created them lets go of them (a
 * JSON patch of its managedFields entry, guarded by a test of its name), then perfpilot applies
 * `body`, which holds them at their current values.
 */
async function handOver(body: KubernetesObject, manager: string, paths: readonly string[][]): Promise<void> {
  // The release's test of the entry fails when a controller's write moved the entries meanwhile
  // (the Deployment controller's first status): read again and retry.
  await waitFor(
    `${body.kind} ${body.metadata?.name} handed over`,
    async () => await releaseAndApply(body, manager, paths),
    {
      timeoutMs: 10_000,
      intervalMs: 200,
    },
  );
}

async function releaseAndApply(
  body: KubernetesObject,
  manager: string,
  paths: readonly string[][],
): Promise<true> {
  const ref = { name: body.metadata?.name ?? '', namespace: ns };
  const live = await objects.read({ apiVersion: body.apiVersion, kind: body.kind, metadata: ref });
  const index = (live.metadata?.managedFields ?? []).findIndex((m) => m.manager === manager);
  const ops = [
    { op: 'test', path: `/metadata/managedFields/${index}/manager`, value: manager },
    ...paths.map((path) => ({
      op: 'remove',
      path: `/metadata/managedFields/${index}/fieldsV1/${path.map(pointer).join('/')}`,
    })),
  ];
  const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
  if (body.kind === 'Deployment') await apps.patchNamespacedDeployment({ ...ref, body: ops }, jsonPatch);
  else if (body.kind === 'HorizontalPodAutoscaler')
    await autoscaling.patchNamespacedHorizontalPodAutoscaler({ ...ref, body: ops }, jsonPatch);
  else
    await custom.patchNamespacedCustomObject(
      { group: 'keda.sh', version: 'v1alpha1', plural: 'scaledobjects', ...ref, body: ops },
      jsonPatch,
    );
  await objects.patch(body, undefined, undefined, 'perfpilot', false, PatchStrategy.ServerSideApply);
  return true;
}

const envValuePath = [
  'f:spec',
  'f:template',
  'f:spec',
  'f:containers',
  `k:{"name":"${CONTAINER}"}`,
  'f:env',
  `k:{"name":"${HIKARI}"}`,
  'f:value',
];

/** handOverPoolAndBounds hands a service's pool env var and its HPA's bounds to perfpilot. */
async function handOverPoolAndBounds(name: string, poolSize: number): Promise<void> {
  await handOver(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns },
      spec: {
        template: {
          spec: { containers: [{ name: CONTAINER, env: [{ name: HIKARI, value: String(poolSize) }] }] },
        },
      },
    } as KubernetesObject,
    'shop-admin',
    [envValuePath],
  );
  await handOver(
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, namespace: ns },
      spec: { minReplicas: 2, maxReplicas: 4 },
    } as KubernetesObject,
    'shop-admin',
    [
      ['f:spec', 'f:minReplicas'],
      ['f:spec', 'f:maxReplicas'],
    ],
  );
}

/** A profile of the shop in Auto: Prometheus only (no Redis), the pool where `pool` says. */
function shopProfile(name: string, targetRef: Record<string, unknown>): PerformanceProfile {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { namespace: ns, name },
    spec: {
      targetRef: { name, ...targetRef },
      mode: 'Auto',
      metrics: {
        prometheus: {
          url: prometheus.url,
          timeoutSeconds: 2,
          queries: { ...SHORT_WINDOW_QUERIES },
        },
      },
      // The CRD's shortest interval; a cooldown long enough that no knob moves twice in a test.
      policy: { evaluationIntervalSeconds: 10, verificationWindowSeconds: 60, cooldownSeconds: 600 },
    },
  } as PerformanceProfile;
}

const envValueOf = async (name: string) =>
  (await apps.readNamespacedDeployment({ namespace: ns, name })).spec?.template.spec?.containers
    .find((c) => c.name === CONTAINER)
    ?.env?.find((e) => e.name === HIKARI)?.value;

const waitForProfile = async (name: string, what: string, check: (p: PerformanceProfile) => boolean) =>
  await waitFor(
    `${name}: ${what}`,
    async () => {
      const p = await profiles.get(ns, name);
      if (check(p)) return p;
      throw new Error(
        JSON.stringify(p.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`)),
      );
    },
    { timeoutMs: appliedWithinMs, intervalMs: 250 },
  );

/**
 * rolloutsOf is the Deployment's rollout record once its controller caught up with the latest
 * spec: its revision (one more per pod-template change) and its ReplicaSets (one per template).
 */
async function rolloutsOf(name: string) {
  const deployment = await waitFor(
    `the Deployment controller caught up with ${name}`,
    async () => {
      const d = await apps.readNamespacedDeployment({ namespace: ns, name });
      return (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) ? d : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  const list = await apps.listNamespacedReplicaSet({
    namespace: ns,
    labelSelector: `app.kubernetes.io/name=${name}`,
  });
  return {
    revision: Number(deployment.metadata?.annotations?.['deployment.kubernetes.io/revision']),
    replicaSets: list.items.map((r) => r.metadata?.name ?? ''),
  };
}

const managers = (entries: V1ManagedFieldsEntry[] | undefined) => (entries ?? []).map((m) => m.manager);

beforeAll(async () => {
  for (const name of Object.keys(SERVICES)) exporters.set(name, await startTestExporter());
  prometheus = await startPrometheus({
    scrapeTargets: [...exporters].map(([job, e]) => ({ address: e.address, job, labels: { namespace: ns } })),
  });
  cp = await startControlPlane({ controllers: true });
  await installCrd(cp);
  await installScaledObjectCrd(cp);
  objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  apps = cp.kubeConfig.makeApiClient(AppsV1Api);
  autoscaling = cp.kubeConfig.makeApiClient(AutoscalingV2Api);
  custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  profiles = profileApi(cp.kubeConfig);
  await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });

  // orders and catalog: a Deployment with the pool in an env var, and its HPA.
  for (const [name, pool] of [
    ['orders', 9],
    ['catalog', 10],
  ] as const) {
    await createService(name, pool);
    await createHpa(name, name);
    await handOverPoolAndBounds(name, pool);
  }
  // search: KEDA scales it. Its ScaledObject holds the bounds; the HPA KEDA made from it
  // (keda-hpa-<name>) is owned by it. KEDA's operator does not run here: the HPA keeps 2..4.
  await createService('search', 10);
  const scaledObject = (await custom.createNamespacedCustomObject({
    group: 'keda.sh',
    version: 'v1alpha1',
    namespace: ns,
    plural: 'scaledobjects',
    fieldManager: 'shop-admin',
    body: {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'search' },
      spec: {
        scaleTargetRef: { name: 'search' },
        minReplicaCount: 2,
        maxReplicaCount: 4,
        triggers: [{ type: 'cpu', metricType: 'Utilization', metadata: { value: '70' } }],
      },
    },
  })) as KubernetesObject;
  await createHpa('keda-hpa-search', 'search', { name: 'search', uid: scaledObject.metadata?.uid ?? '' });
  await handOver(
    {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'search', namespace: ns },
      spec: { minReplicaCount: 2, maxReplicaCount: 4 },
    } as KubernetesObject,
    'shop-admin',
    [
      ['f:spec', 'f:minReplicaCount'],
      ['f:spec', 'f:maxReplicaCount'],
    ],
  );
  // The shop's Redis (an ACL user, a redis.conf ConfigMap as the common Helm charts mount it, a
  // Redis with CONFIG renamed, Sentinel) is driven through the operator in adopt-redis.test.ts and
  // adopt-sentinel.test.ts, which need no controllers or kwok.

  for (const [name, series] of Object.entries(SERVICES)) {
    const exporter = exporters.get(name);
    if (exporter) traffic.push(driveRiskApiSeries(exporter, name, series));
  }
  for (const name of Object.keys(SERVICES))
    await prometheus.waitForSeries(`rate(database_pool_wait_seconds_count{job="${name}"}[5m]) > 0`);
  operator = await startOperator({
    kubeConfig: cp.kubeConfig,
    namespaces: [ns],
    identity: 'adopt-shop',
    leaderElection: false,
    metricsPort: 0,
    healthPort: 0,
    metricsHost: '127.0.0.1',
    logger: createLogger({ level: 'warn' }),
  });
}, 240_000);

afterAll(async () => {
  for (const t of traffic) t.stop();
  await operator?.stop();
  await cp?.stop();
  await prometheus?.stop();
  for (const e of exporters.values()) await e.stop();
});

describe('a hand-written shop in Auto, from Prometheus alone', () => {
  it('raises the HikariCP pool env var of a size-only pool, and the pods roll once', async () => {
    await waitFor(
      'orders at 2 ready replicas',
      async () =>
        (await apps.readNamespacedDeployment({ namespace: ns, name: 'orders' })).status?.readyReplicas ===
          2 || undefined,
      { timeoutMs: podsFollowMs, intervalMs: 500 },
    );
    const before = await rolloutsOf('orders');
    expect(await envValueOf('orders')).toBe('9');
    await profiles.create(
      shopProfile('orders', { pool: { env: { container: CONTAINER, sizeVar: HIKARI } } }),
    );
    const raised = await waitFor(
      `${HIKARI} raised`,
      async () => {
        const size = Number(await envValueOf('orders'));
        return size > 9 ? size : undefined;
      },
      { timeoutMs: appliedWithinMs, intervalMs: 100 },
    );
    expect(raised).toBeLessThanOrEqual(13); // one step of at most 50 %
    const p = await waitForProfile('orders', 'history written', (p) =>
      (p.status?.history ?? []).some((d) => d.knob === 'poolSize'),
    );
    expect(p.status?.history?.find((d) => d.knob === 'poolSize')).toMatchObject({
      from: 9,
      to: raised,
      outcome: 'Applied',
    });
    // No overflow and no Redis: held, and Ready says why.
    expect(p.status?.history?.some((d) => d.knob === 'maxOverflow' || d.knob === 'redisMaxmemoryMiB')).toBe(
      false,
    );
    expect(condition(p, 'Ready')?.message).toMatch(
      /not tuned: maxOverflow \(the pool has no overflow[^)]*\)/,
    );
    expect(condition(p, 'Ready')?.message).toMatch(/redisMaxmemoryMiB \(spec\.metrics\.redis is not set/);
    expect(p.status?.recommended?.redisMaxmemoryMiB).toBeUndefined();
    // The other env var and the container are as their owner wrote them.
    const container = (await apps.readNamespacedDeployment({ namespace: ns, name: 'orders' })).spec?.template
      .spec?.containers[0];
    expect(container?.image).toBe('shop/orders:1.4.2');
    expect(container?.env).toEqual([
      { name: 'SPRING_PROFILES_ACTIVE', value: 'prod' },
      { name: HIKARI, value: String(raised) },
    ]);
    // Once: after two more evaluations, one new ReplicaSet and one new revision.
    const seen = Date.now();
    await waitForProfile(
      'orders',
      'two evaluations after the roll',
      (p) => Date.parse(p.status?.lastSnapshot?.time ?? '') > seen + evaluationMs,
    );
    const after = await rolloutsOf('orders');
    expect(after.revision).toBe(before.revision + 1);
    expect(after.replicaSets.filter((r) => !before.replicaSets.includes(r))).toHaveLength(1);
    expect(await envValueOf('orders')).toBe(String(raised));
  }, 150_000);

  it('raises the HPA bounds of a busy service under load, with no Redis named', async () => {
    await waitFor(
      'catalog at the HPA floor of 2',
      async () =>
        (await apps.readNamespacedDeployment({ namespace: ns, name: 'catalog' })).status?.readyReplicas ===
          2 || undefined,
      { timeoutMs: podsFollowMs, intervalMs: 500 },
    );
    await profiles.create(
      shopProfile('catalog', { pool: { env: { container: CONTAINER, sizeVar: HIKARI } } }),
    );
    const bounds = await waitFor(
      'HPA bounds raised',
      async () => {
        const hpa = (
          await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'catalog' })
        ).spec;
        return (hpa?.minReplicas ?? 0) > 2 && (hpa?.maxReplicas ?? 0) > 4 ? hpa : undefined;
      },
      { timeoutMs: appliedWithinMs, intervalMs: 100 },
    );
    expect(bounds?.maxReplicas).toBeLessThanOrEqual(6); // one step of at most 50 %
    // The budget counts the size alone: maxReplicas × pool ≤ 90.
    expect((bounds?.maxReplicas ?? 0) * Number(await envValueOf('catalog'))).toBeLessThanOrEqual(90);
    await waitFor(
      `catalog at ${bounds?.minReplicas} ready replicas`,
      async () =>
        ((await apps.readNamespacedDeployment({ namespace: ns, name: 'catalog' })).status?.readyReplicas ??
          0) >= (bounds?.minReplicas ?? 0) || undefined,
      { timeoutMs: podsFollowMs, intervalMs: 500 },
    );
  }, 150_000);

  it('writes the bounds of a KEDA-owned HPA to its ScaledObject, and never writes the HPA', async () => {
    await profiles.create(shopProfile('search', { hpaName: 'keda-hpa-search', pool: { none: {} } }));
    const scaled = await waitFor(
      'ScaledObject bounds raised',
      async () => {
        const so = (await custom.getNamespacedCustomObject({
          group: 'keda.sh',
          version: 'v1alpha1',
          namespace: ns,
          plural: 'scaledobjects',
          name: 'search',
        })) as KubernetesObject & { spec: { minReplicaCount: number; maxReplicaCount: number } };
        return so.spec.minReplicaCount > 2 && so.spec.maxReplicaCount > 4 ? so : undefined;
      },
      { timeoutMs: appliedWithinMs, intervalMs: 100 },
    );
    const owner = scaled.metadata?.managedFields?.find(
      (m) => m.manager === 'perfpilot' && m.operation === 'Apply',
    );
    expect(owner?.fieldsV1).toMatchObject({ 'f:spec': { 'f:minReplicaCount': {}, 'f:maxReplicaCount': {} } });
    const p = await waitForProfile('search', 'history written', (p) => (p.status?.history ?? []).length > 0);
    expect(p.status?.history?.some((d) => d.knob === 'poolSize' || d.knob === 'maxOverflow')).toBe(false);
    expect(condition(p, 'Ready')?.message).toMatch(/not tuned: poolSize \(spec\.targetRef\.pool is none\)/);
    // Another evaluation later, the HPA is as KEDA (here: the test) wrote it, and perfpilot is none of its managers.
    const seen = Date.now();
    await waitForProfile(
      'search',
      'another evaluation',
      (p) => Date.parse(p.status?.lastSnapshot?.time ?? '') > seen,
    );
    const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({
      namespace: ns,
      name: 'keda-hpa-search',
    });
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    expect(managers(hpa.metadata?.managedFields)).not.toContain('perfpilot');
    // The pod template of a pool that is not tuned is never written either.
    const deployment = await apps.readNamespacedDeployment({ namespace: ns, name: 'search' });
    expect(managers(deployment.metadata?.managedFields)).not.toContain('perfpilot');
  }, 150_000);
});
