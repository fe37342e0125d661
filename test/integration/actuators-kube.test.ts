/**
 * The HPA and pool actuators against a real kube-apiserver, on the toolkit's own manifests applied
 * the way users apply them (`kubectl apply`). Server-side apply as `perfpilot` changes only its
 * fields; a field another manager owns is a conflict that changes nothing, until the fields are
 * handed over with the command the GitOps guide gives (docs/guides/gitops.md); a pool change rolls the pods once per cooldown.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, type V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActuatorContext } from '../../operator/src/actuators/context.ts';
import { makeTargetClients } from '../../operator/src/actuators/context.ts';
import {
  applyPoolSettings,
  CONFIG_ROLLED_AT_ANNOTATION,
} from '../../operator/src/actuators/pool-settings.ts';
import { applyReplicaBounds } from '../../operator/src/actuators/replica-bounds.ts';
import { CONFIG_HASH_ANNOTATION, configHash } from '../../operator/src/api/v1alpha1/index.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { handOverToPerfpilot, kubectlApplyYaml, TUNED_FIELDS_REMOVED } from './fixtures.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ns = 'perfpilot';
let cp: ControlPlane;
let ctx: Pick<ActuatorContext, 'clients'>;

const hpaRef = { namespace: ns, name: 'risk-api' };
const poolTarget = { namespace: ns, deployment: 'risk-api', configMap: 'risk-api-tuning' };

const readHpa = () =>
  cp.kubeConfig.makeApiClient(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler(hpaRef);
const readConfigMap = () =>
  cp.kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: ns, name: 'risk-api-tuning' });
const readDeployment = () =>
  cp.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name: 'risk-api' });

/** ownedBy is the field set one manager owns through Apply, as the API server records it. */
function ownedBy(managedFields: V1ManagedFieldsEntry[] | undefined, manager: string): unknown {
  return managedFields?.find((m) => m.manager === manager && m.operation === 'Apply')?.fieldsV1;
}

beforeAll(async () => {
  cp = await startControlPlane();
  // The toolkit's manifests, applied as the install guide says (client-side kubectl apply).
  for (const file of ['namespace.yaml', 'risk-api.yaml', 'risk-api-hpa.yaml']) {
    await cp.kubectl(['apply', '-f', join(root, 'manifests', file)]);
  }
  ctx = { clients: makeTargetClients(cp.kubeConfig) };
});

afterAll(async () => {
  await cp?.stop();
});

describe('applyReplicaBounds', () => {
  it('reports a conflict with the manager that owns the bounds (kubectl apply) and changes nothing', async () => {
    const before = await readHpa();
    const result = await applyReplicaBounds(ctx, hpaRef, { minReplicas: 3, maxReplicas: 8 });
    expect(result).toMatchObject({
      kind: 'conflict',
      object: `HorizontalPodAutoscaler ${ns}/risk-api`,
      before: { minReplicas: 2, maxReplicas: 10 },
    });
    if (result.kind !== 'conflict') throw new Error(result.kind);
    expect(result.conflicts).toEqual(
      expect.arrayContaining([
        { manager: 'kubectl-client-side-apply', field: '.spec.minReplicas' },
        { manager: 'kubectl-client-side-apply', field: '.spec.maxReplicas' },
      ]),
    );
    const after = await readHpa();
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(after.spec).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
  });

  const hpaHandover = [
    'apiVersion: autoscaling/v2',
    'kind: HorizontalPodAutoscaler',
    'metadata: {name: risk-api, namespace: perfpilot}',
    'spec: {minReplicas: 2, maxReplicas: 10}',
    '',
  ].join('\n');

  it('refuses, instead of removing fields, when a hand-over made perfpilot the owner of the whole HPA', async () => {
    // Straight onto an object from client-side kubectl apply, kubectl hands perfpilot every field.
    await kubectlApplyYaml(cp, 'hpa-co-own.yaml', hpaHandover, [
      '--server-side',
      '--field-manager=perfpilot',
    ]);
    const before = await readHpa();
    const result = await applyReplicaBounds(ctx, hpaRef, { minReplicas: 3, maxReplicas: 8 });
    expect(result.kind).toBe('conflict');
    if (result.kind !== 'conflict') throw new Error(result.kind);
    expect(result.conflicts).toContainEqual({ manager: 'perfpilot', field: '.spec.scaleTargetRef.name' });
    expect(result.message).toContain('applying would remove them');
    expect((await readHpa()).metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('after the GitOps hand-over, changes exactly minReplicas and maxReplicas as perfpilot', async () => {
    await handOverToPerfpilot(cp, [join(root, 'manifests/risk-api-hpa.yaml')], hpaHandover);
    const before = await readHpa();
    const result = await applyReplicaBounds(ctx, hpaRef, { minReplicas: 3, maxReplicas: 8 });
    expect(result).toEqual({
      kind: 'applied',
      object: `HorizontalPodAutoscaler ${ns}/risk-api`,
      // What the HPA held, its CPU target included; the target is not written without one asked.
      before: { minReplicas: 2, maxReplicas: 10, cpuUtilizationPercent: 70 },
      after: { minReplicas: 3, maxReplicas: 8 },
    });
    const after = await readHpa();
    expect(after.spec?.minReplicas).toBe(3);
    expect(after.spec?.maxReplicas).toBe(8);
    // Everything else is as the manifest made it.
    expect(after.spec?.metrics).toEqual(before.spec?.metrics);
    expect(after.spec?.behavior).toEqual(before.spec?.behavior);
    expect(after.spec?.scaleTargetRef).toEqual(before.spec?.scaleTargetRef);
    expect(after.metadata?.labels).toEqual(before.metadata?.labels);
    expect(ownedBy(after.metadata?.managedFields, 'perfpilot')).toEqual({
      'f:spec': { 'f:maxReplicas': {}, 'f:minReplicas': {} },
    });
  });

  it('writes nothing when the bounds are already there', async () => {
    const before = await readHpa();
    const result = await applyReplicaBounds(ctx, hpaRef, { minReplicas: 3, maxReplicas: 8 });
    expect(result.kind).toBe('unchanged');
    expect((await readHpa()).metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('reports a conflict when another applier (a GitOps controller) takes a bound, and keeps its value', async () => {
    await kubectlApplyYaml(
      cp,
      'hpa-gitops.yaml',
      [
        'apiVersion: autoscaling/v2',
        'kind: HorizontalPodAutoscaler',
        'metadata: {name: risk-api, namespace: perfpilot}',
        'spec: {maxReplicas: 12}',
        '',
      ].join('\n'),
      ['--server-side', '--field-manager=argocd-controller', '--force-conflicts'],
    );
    const result = await applyReplicaBounds(ctx, hpaRef, { minReplicas: 3, maxReplicas: 9 });
    expect(result.kind).toBe('conflict');
    if (result.kind !== 'conflict') throw new Error(result.kind);
    expect(result.conflicts).toEqual([{ manager: 'argocd-controller', field: '.spec.maxReplicas' }]);
    expect(result.message).toContain('argocd-controller');
    expect((await readHpa()).spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
  });

  it('reports a missing HPA as notFound and creates none', async () => {
    const result = await applyReplicaBounds(
      ctx,
      { namespace: ns, name: 'no-such-hpa' },
      { minReplicas: 2, maxReplicas: 4 },
    );
    expect(result).toEqual({ kind: 'notFound', object: `HorizontalPodAutoscaler ${ns}/no-such-hpa` });
    const list = await cp.kubeConfig
      .makeApiClient(AutoscalingV2Api)
      .listNamespacedHorizontalPodAutoscaler({ namespace: ns });
    expect(list.items.map((h) => h.metadata?.name)).toEqual(['risk-api']);
  });
});

describe('applyPoolSettings', () => {
  const t0 = new Date('2026-12-01T21:00:00.000Z');
  const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
  const cooldownSeconds = 300;

  it('reports a conflict on the ConfigMap kubectl apply owns, and neither writes it nor rolls the pods', async () => {
    const [configMap, deployment] = await Promise.all([readConfigMap(), readDeployment()]);
    const result = await applyPoolSettings(
      ctx,
      poolTarget,
      { poolSize: 12, maxOverflow: 6 },
      { now: t0, cooldownSeconds },
    );
    expect(result).toMatchObject({
      kind: 'conflict',
      object: `ConfigMap ${ns}/risk-api-tuning`,
      configMapWritten: false,
      before: { poolSize: 20, maxOverflow: 30 },
    });
    if (result.kind !== 'conflict') throw new Error(result.kind);
    expect(result.conflicts.map((c) => c.field).sort()).toEqual([
      '.data.DB_MAX_OVERFLOW',
      '.data.DB_POOL_SIZE',
    ]);
    expect((await readConfigMap()).metadata?.resourceVersion).toBe(configMap.metadata?.resourceVersion);
    expect((await readDeployment()).metadata?.generation).toBe(deployment.metadata?.generation);
  });

  it('after the GitOps hand-over, writes the pool and rolls the pods once, then not again within the cooldown', async () => {
    const current = await readDeployment();
    const hash = current.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] ?? '';
    await handOverToPerfpilot(
      cp,
      [join(root, 'manifests/risk-api.yaml')],
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: risk-api-tuning, namespace: perfpilot}',
        'data: {DB_POOL_SIZE: "20", DB_MAX_OVERFLOW: "30"}',
        '---',
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: risk-api, namespace: perfpilot}',
        `spec: {template: {metadata: {annotations: {perfpilot.dev/config-hash: "${hash}"}}}}`,
        '',
      ].join('\n'),
    );
    const before = await readDeployment();
    const generation = before.metadata?.generation ?? 0;

    const applied = await applyPoolSettings(
      ctx,
      poolTarget,
      { poolSize: 12, maxOverflow: 6 },
      { now: t0, cooldownSeconds },
    );
    const configMap = await readConfigMap();
    expect(configMap.data).toMatchObject({ DB_POOL_SIZE: '12', DB_MAX_OVERFLOW: '6', DB_POOL_TIMEOUT: '30' });
    const expectedHash = configHash(configMap.data ?? {});
    expect(applied).toEqual({
      kind: 'applied',
      before: { poolSize: 20, maxOverflow: 30 },
      after: { poolSize: 12, maxOverflow: 6 },
      configHash: expectedHash,
      rolledAt: t0,
      changed: [`ConfigMap ${ns}/risk-api-tuning`, `Deployment ${ns}/risk-api`],
    });
    const rolled = await readDeployment();
    // A new pod template: the Deployment controller rolls the pods.
    expect(rolled.metadata?.generation).toBe(generation + 1);
    expect(rolled.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION]).toBe(expectedHash);
    expect(rolled.metadata?.annotations?.[CONFIG_ROLLED_AT_ANNOTATION]).toBe(t0.toISOString());
    // Only the hash changed in the template; containers, labels and the rest are the manifest's.
    expect(rolled.spec?.template.spec).toEqual(before.spec?.template.spec);
    expect(rolled.spec?.template.metadata?.labels).toEqual(before.spec?.template.metadata?.labels);
    expect(ownedBy(rolled.metadata?.managedFields, 'perfpilot')).toEqual({
      'f:metadata': { 'f:annotations': { [`f:${CONFIG_ROLLED_AT_ANNOTATION}`]: {} } },
      'f:spec': {
        'f:template': { 'f:metadata': { 'f:annotations': { [`f:${CONFIG_HASH_ANNOTATION}`]: {} } } },
      },
    });

    // A minute later another change is proposed: deferred to the end of the cooldown, nothing written.
    const deferred = await applyPoolSettings(
      ctx,
      poolTarget,
      { poolSize: 14, maxOverflow: 6 },
      { now: at(60), cooldownSeconds },
    );
    expect(deferred).toEqual({
      kind: 'deferred',
      before: { poolSize: 12, maxOverflow: 6 },
      notBefore: at(300),
    });
    expect((await readConfigMap()).data?.DB_POOL_SIZE).toBe('12');
    expect((await readDeployment()).metadata?.generation).toBe(generation + 1);

    // The values already applied are no change at all.
    expect(
      (
        await applyPoolSettings(
          ctx,
          poolTarget,
          { poolSize: 12, maxOverflow: 6 },
          { now: at(61), cooldownSeconds },
        )
      ).kind,
    ).toBe('unchanged');

    // After the cooldown the change goes through, with one more roll.
    const later = await applyPoolSettings(
      ctx,
      poolTarget,
      { poolSize: 14, maxOverflow: 6 },
      { now: at(301), cooldownSeconds },
    );
    expect(later.kind).toBe('applied');
    expect((await readConfigMap()).data?.DB_POOL_SIZE).toBe('14');
    expect((await readDeployment()).metadata?.generation).toBe(generation + 2);
  });

  it('rolls the pods when the ConfigMap holds the values but the template hash does not (a crash between the writes)', async () => {
    // The ConfigMap write of a cycle that died before rolling.
    await kubectlApplyYaml(
      cp,
      'pool-crash.yaml',
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: risk-api-tuning, namespace: perfpilot}',
        'data: {DB_POOL_SIZE: "16", DB_MAX_OVERFLOW: "6"}',
        '',
      ].join('\n'),
      ['--server-side', '--field-manager=perfpilot'],
    );
    const generation = (await readDeployment()).metadata?.generation ?? 0;
    const result = await applyPoolSettings(
      ctx,
      poolTarget,
      { poolSize: 16, maxOverflow: 6 },
      { now: at(1000), cooldownSeconds },
    );
    expect(result).toMatchObject({ kind: 'applied', changed: [`Deployment ${ns}/risk-api`] });
    const deployment = await readDeployment();
    expect(deployment.metadata?.generation).toBe(generation + 1);
    expect(deployment.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION]).toBe(
      configHash((await readConfigMap()).data ?? {}),
    );
  });

  it.each<[string, { deployment: string; configMap: string }, string[]]>([
    [
      'the ConfigMap',
      { deployment: 'risk-api', configMap: 'no-such-tuning' },
      [`ConfigMap ${ns}/no-such-tuning`],
    ],
    [
      'the Deployment',
      { deployment: 'no-such-api', configMap: 'risk-api-tuning' },
      [`Deployment ${ns}/no-such-api`],
    ],
    [
      'both',
      { deployment: 'no-such-api', configMap: 'no-such-tuning' },
      [`ConfigMap ${ns}/no-such-tuning`, `Deployment ${ns}/no-such-api`],
    ],
  ])(
    'reports a missing target (%s) as notFound, naming it, and writes nothing',
    async (_what, names, missing) => {
      const configMapBefore = await readConfigMap();
      const deploymentBefore = await readDeployment();
      const result = await applyPoolSettings(
        ctx,
        { namespace: ns, ...names },
        { poolSize: 5, maxOverflow: 0 },
        { now: at(5000), cooldownSeconds },
      );
      expect(result).toEqual({ kind: 'notFound', missing });
      // Nothing created, and what exists untouched: no new pool without its roll, no roll without it.
      const core = cp.kubeConfig.makeApiClient(CoreV1Api);
      const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
      expect(
        (await core.listNamespacedConfigMap({ namespace: ns })).items.map((c) => c.metadata?.name),
      ).not.toContain('no-such-tuning');
      expect(
        (await apps.listNamespacedDeployment({ namespace: ns })).items.map((d) => d.metadata?.name),
      ).not.toContain('no-such-api');
      expect((await readConfigMap()).metadata?.resourceVersion).toBe(
        configMapBefore.metadata?.resourceVersion,
      );
      expect((await readDeployment()).metadata?.resourceVersion).toBe(
        deploymentBefore.metadata?.resourceVersion,
      );
    },
  );
});

describe('the GitOps guide', () => {
  it('gives the hand-over overlay these tests apply, patch for patch', () => {
    expect(readFileSync(join(root, 'docs/guides/gitops.md'), 'utf8')).toContain(TUNED_FIELDS_REMOVED);
  });
});
