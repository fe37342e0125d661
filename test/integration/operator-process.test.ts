/**
 * The operator as processes, as in a cluster: the image's bundle (built afresh from the sources)
 * run with the command and environment of the generated Deployment, with only the generated ServiceAccount's
 * permissions (enough for every actuator, and nothing next to them), and two replicas behind one Lease where exactly one acts and a standby takes over
 * when the leader dies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  AppsV1Api,
  AutoscalingV2Api,
  CoordinationV1Api,
  CoreV1Api,
  EventsV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Container,
  type V1Deployment,
  type V1Lease,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { makeTargetClients } from '../../operator/src/actuators/context.ts';
import { applyPoolSettings } from '../../operator/src/actuators/pool-settings.ts';
import { applyReplicaBounds } from '../../operator/src/actuators/replica-bounds.ts';
import { kubeSecretReader } from '../../operator/src/actuators/secrets.ts';
import { FINALIZER } from '../../operator/src/api/v1alpha1/index.ts';
import { OPERATOR_BUNDLE } from '../../operator/src/node-flags.ts';
import { buildOperatorBundle } from '../../scripts/operator-bundle.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { freePort } from '../cluster/processes.ts';
import {
  createTargetStack,
  installCrd,
  kubectlApplyYaml,
  ProfileBuilder,
  profileApi,
  readStackKnobs,
} from './fixtures.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ns = 'perfpilot';
const leaseName = 'perfpilot-operator';
let cp: ControlPlane;
/** bundle is the operator's bundle, built from the sources for this run. */
let bundle: string;
const running = new Set<ChildProcess>();

/** The generated operator container: how the image runs the operator. */
function operatorContainer(): V1Container {
  const docs = parseAllDocuments(readFileSync(join(root, 'manifests/operator.yaml'), 'utf8')).map((d) =>
    d.toJS(),
  );
  const deployment = docs.find((d) => d?.kind === 'Deployment') as V1Deployment | undefined;
  const container = deployment?.spec?.template.spec?.containers.find((c) => c.name === 'operator');
  if (!container) throw new Error('manifests/operator.yaml has no operator container');
  return container;
}

/**
 * startOperator runs the operator as its container does (the Deployment's command, args and
 * literal environment, with the bundle built for this run in place of the image's) and waits
 * for /readyz.
 */
async function startOperator(identity: string, kubeconfig: string): Promise<ChildProcess> {
  const [port, healthPort] = [await freePort(), await freePort()];
  const container = operatorContainer();
  const [node, script, ...rest] = container.command ?? [];
  expect([node, script]).toEqual(['node', OPERATOR_BUNDLE]);
  const literalEnv = Object.fromEntries(
    (container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]),
  );
  const child = spawn(
    process.execPath,
    [
      bundle,
      ...rest,
      ...(container.args ?? []),
      `--kubeconfig=${kubeconfig}`,
      `--metrics-port=${port}`,
      `--health-port=${healthPort}`,
      `--identity=${identity}`,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...literalEnv, WATCH_NAMESPACE: ns, POD_NAMESPACE: ns, LOG_LEVEL: 'warn' },
    },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  await vi.waitFor(
    async () => {
      const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
      expect(res.status).toBe(200);
    },
    { timeout: 30_000, interval: 200 },
  );
  return child;
}

async function readLease(): Promise<V1Lease> {
  return await cp.kubeConfig
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ namespace: ns, name: leaseName });
}

async function leaseHolder(): Promise<string | undefined> {
  try {
    const lease = await cp.kubeConfig
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: ns, name: leaseName });
    return lease.spec?.holderIdentity || undefined;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

/** tookOverBy lists the reporting instances of the TookOver Events of one profile. */
async function tookOverBy(profile: string): Promise<string[]> {
  const list = await cp.kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: ns });
  return list.items
    .filter((e) => e.regarding?.name === profile && e.reason === 'TookOver')
    .map((e) => e.reportingInstance ?? '');
}

beforeAll(async () => {
  bundle = await buildOperatorBundle(join(mkdtempSync(join(tmpdir(), 'perfpilot-bundle-')), 'operator.js'));
  cp = await startControlPlane();
  await installCrd(cp);
  // The generated namespace and operator objects: ServiceAccount, Role, RoleBinding, Deployment.
  await cp.kubectl(['apply', '--server-side', '-f', join(root, 'manifests/namespace.yaml')]);
  await cp.kubectl(['apply', '--server-side', '-f', join(root, 'manifests/operator.yaml')]);
  await createTargetStack(cp.kubeConfig, ns, 'risk-api');
});

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await cp?.stop();
  if (bundle) rmSync(dirname(bundle), { recursive: true, force: true });
});

describe('least privilege', () => {
  let saKubeconfig: string;
  let asOperator: KubeConfig;

  beforeAll(async () => {
    const token = await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      namespace: ns,
      name: 'perfpilot-operator',
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const cluster = cp.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('no cluster in kubeconfig');
    asOperator = new KubeConfig();
    asOperator.loadFromClusterAndUser(cluster, {
      name: 'perfpilot-operator',
      token: token.status?.token ?? '',
    });
    saKubeconfig = join(cp.dir, 'operator-sa.kubeconfig');
    writeFileSync(saKubeconfig, asOperator.exportConfig(), { mode: 0o600 });
  });

  it('reconciles with only the generated Role', async () => {
    const operator = await startOperator('sa-operator', saKubeconfig);
    try {
      // Auto, so that the take-over's metadata patch goes through the Role too.
      await profileApi(cp.kubeConfig).create(
        new ProfileBuilder(ns, 'least-privilege', 'risk-api').mode('Auto').build(),
      );
      await vi.waitFor(
        async () => {
          const p = await profileApi(cp.kubeConfig).get(ns, 'least-privilege');
          expect(p.status?.observedGeneration).toBe(1);
          expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
          expect(p.metadata.finalizers).toContain(FINALIZER);
        },
        { timeout: 30_000, interval: 200 },
      );
      expect(await tookOverBy('least-privilege')).toEqual(['sa-operator']);
      expect(await leaseHolder()).toBe('sa-operator');
    } finally {
      operator.kill('SIGTERM');
      await once(operator, 'exit');
    }
    // A graceful stop releases the Lease, so a standby need not wait for it to expire.
    expect(await leaseHolder()).toBeUndefined();
  });

  it('may do what the actuators need: apply HPA bounds, pool settings with a roll, and read the Redis password', async () => {
    const admin = cp.kubeConfig.makeApiClient(CoreV1Api);
    await admin.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'redis-auth' }, stringData: { password: 'least-privilege-redis' } },
    });
    // The tuned fields taken over by perfpilot (by the admin: a forced apply of other values).
    await kubectlApplyYaml(
      cp,
      'take-over.yaml',
      [
        'apiVersion: autoscaling/v2',
        'kind: HorizontalPodAutoscaler',
        `metadata: {name: risk-api, namespace: ${ns}}`,
        'spec: {minReplicas: 3, maxReplicas: 9}',
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        `metadata: {name: risk-api-tuning, namespace: ${ns}}`,
        'data: {DB_POOL_SIZE: "8", DB_MAX_OVERFLOW: "4"}',
        '',
      ].join('\n'),
      ['--server-side', '--field-manager=perfpilot', '--force-conflicts'],
    );
    const ctx = { clients: makeTargetClients(asOperator) };

    const bounds = await applyReplicaBounds(
      ctx,
      { namespace: ns, name: 'risk-api' },
      { minReplicas: 4, maxReplicas: 10 },
    );
    expect(bounds.kind).toBe('applied');
    const pool = await applyPoolSettings(
      ctx,
      { namespace: ns, deployment: 'risk-api', configMap: 'risk-api-tuning' },
      { poolSize: 9, maxOverflow: 5 },
      { now: new Date(), cooldownSeconds: 300 },
    );
    expect(pool).toMatchObject({
      kind: 'applied',
      changed: [`ConfigMap ${ns}/risk-api-tuning`, `Deployment ${ns}/risk-api`],
    });
    expect(await readStackKnobs(cp.kubeConfig, ns, 'risk-api')).toEqual({
      poolSize: 9,
      maxOverflow: 5,
      minReplicas: 4,
      maxReplicas: 10,
    });
    expect(
      await kubeSecretReader(ctx.clients.core)({ namespace: ns, name: 'redis-auth', key: 'password' }),
    ).toBe('least-privilege-redis');
  });

  it.each([
    ['list Secrets', (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: ns })],
    [
      'change the Redis password Secret it may read',
      (kc: KubeConfig) =>
        kc
          .makeApiClient(CoreV1Api)
          .patchNamespacedSecret(
            { namespace: ns, name: 'redis-auth', body: { metadata: { labels: { touched: 'yes' } } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
    ],
    [
      'replace (update) the HPA instead of patching it',
      async (kc: KubeConfig) => {
        const hpa = await cp.kubeConfig
          .makeApiClient(AutoscalingV2Api)
          .readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'risk-api' });
        return await kc
          .makeApiClient(AutoscalingV2Api)
          .replaceNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'risk-api', body: hpa });
      },
    ],
    [
      'patch the HPA status',
      (kc: KubeConfig) =>
        kc
          .makeApiClient(AutoscalingV2Api)
          .patchNamespacedHorizontalPodAutoscalerStatus(
            { namespace: ns, name: 'risk-api', body: { status: { currentReplicas: 1 } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
    ],
    [
      'scale the API Deployment (the scale subresource)',
      (kc: KubeConfig) =>
        kc
          .makeApiClient(AppsV1Api)
          .patchNamespacedDeploymentScale(
            { namespace: ns, name: 'risk-api', body: { spec: { replicas: 5 } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
    ],
    [
      'create a ConfigMap',
      (kc: KubeConfig) =>
        kc
          .makeApiClient(CoreV1Api)
          .createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'new' } } }),
    ],
    [
      'delete the tuning ConfigMap',
      (kc: KubeConfig) =>
        kc.makeApiClient(CoreV1Api).deleteNamespacedConfigMap({ namespace: ns, name: 'risk-api-tuning' }),
    ],
    [
      'patch a ConfigMap in another namespace',
      (kc: KubeConfig) =>
        kc
          .makeApiClient(CoreV1Api)
          .patchNamespacedConfigMap(
            { namespace: 'default', name: 'kube-root-ca.crt', body: { data: { x: 'y' } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
    ],
    [
      'patch a StatefulSet (the Redis nodes)',
      (kc: KubeConfig) =>
        kc
          .makeApiClient(AppsV1Api)
          .patchNamespacedStatefulSet(
            { namespace: ns, name: 'redis-cluster', body: { spec: { replicas: 1 } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
    ],
    [
      'read a Secret other than the Redis password',
      (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: ns, name: 'other' }),
    ],
    [
      'delete the API Deployment',
      (kc: KubeConfig) =>
        kc.makeApiClient(AppsV1Api).deleteNamespacedDeployment({ namespace: ns, name: 'risk-api' }),
    ],
    ['list Pods', (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns })],
    [
      'read ConfigMaps in another namespace',
      (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: 'default' }),
    ],
  ])('is denied to %s', async (_what, call) => {
    const err = await call(asOperator).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<unknown>).code).toBe(403);
  });
});

describe('two replicas behind one Lease', () => {
  it('exactly one acts; when the leader dies the standby waits out its lease, takes over and acts', async () => {
    const a = await startOperator('replica-a', cp.kubeconfigPath);
    await vi.waitFor(async () => expect(await leaseHolder()).toBe('replica-a'), {
      timeout: 20_000,
      interval: 200,
    });
    const b = await startOperator('replica-b', cp.kubeconfigPath);

    const profiles = profileApi(cp.kubeConfig);
    await profiles.create(new ProfileBuilder(ns, 'before-failover', 'risk-api').mode('Auto').build());
    await vi.waitFor(async () => expect(await tookOverBy('before-failover')).toEqual(['replica-a']), {
      timeout: 20_000,
      interval: 200,
    });

    // The leader dies without releasing its Lease: the standby must wait for it to expire.
    a.kill('SIGKILL');
    await once(a, 'exit');
    const abandoned = await readLease();
    expect(abandoned.spec?.holderIdentity).toBe('replica-a');
    const leaseMs = (abandoned.spec?.leaseDurationSeconds ?? 0) * 1000;
    expect(leaseMs).toBeGreaterThan(0);
    // The standby tries every retry period (2 s, up to 20 % later); the slack is for a loaded machine.
    const takeoverWithinMs = leaseMs + 1.2 * 2000 + 10_000;
    const taken = await vi.waitFor(
      async () => {
        const lease = await readLease();
        expect(lease.spec?.holderIdentity).toBe('replica-b');
        return lease;
      },
      { timeout: takeoverWithinMs, interval: 250 },
    );
    // By the Lease's own record: the standby took it one whole lease duration after the dead
    // leader's last renewal, never while it could still have been acting, and as one transition.
    const at = (t: Date | string | undefined) => new Date(t ?? Number.NaN).getTime();
    expect(at(taken.spec?.acquireTime) - at(abandoned.spec?.renewTime)).toBeGreaterThanOrEqual(leaseMs);
    expect(taken.spec?.leaseTransitions).toBe((abandoned.spec?.leaseTransitions ?? 0) + 1);

    await profiles.create(new ProfileBuilder(ns, 'after-failover', 'risk-api').mode('Auto').build());
    await vi.waitFor(async () => expect(await tookOverBy('after-failover')).toEqual(['replica-b']), {
      timeout: 20_000,
      interval: 200,
    });
    // The new leader re-reconciled everything: nothing was taken over twice.
    expect(await tookOverBy('before-failover')).toEqual(['replica-a']);
    b.kill('SIGTERM');
    await once(b, 'exit');
  }, 90_000);
});
