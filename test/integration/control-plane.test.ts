/**
 * The test control plane is a real Kubernetes API server: CRDs, custom objects, server-side
 * apply, Pod Security admission, RBAC and watches behave as in a cluster.
 */
import { existsSync } from 'node:fs';
import {
  ApiException,
  ApiextensionsV1Api,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { createNamespace, restrictedNamespaceLabels } from '../cluster/kube.ts';

const group = 'harness.perfpilot.dev';
const plural = 'widgets';

const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: 'widget', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { size: { type: 'integer', minimum: 1 }, color: { type: 'string' } },
              },
            },
          },
        },
      },
    ],
  },
};

function widget(namespace: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { namespace, name }, spec };
}

function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

let cp: ControlPlane;
let kc: KubeConfig;

beforeAll(async () => {
  cp = await startControlPlane();
  kc = cp.kubeConfig;
  await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: widgetCrd });
  await vi.waitFor(
    async () => {
      const crd = await kc
        .makeApiClient(ApiextensionsV1Api)
        .readCustomResourceDefinition({ name: widgetCrd.metadata.name });
      expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    },
    { timeout: 20_000, interval: 100 },
  );
  await createNamespace(kc, 'widgets');
});

afterAll(async () => {
  await cp?.stop();
});

describe('custom resources', () => {
  it('creates, gets, lists and watches custom objects', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const seen: string[] = [];
    // A new resource's watch cache answers 429 until it has initialized: retry until the watch holds.
    const watch = await vi.waitFor(
      async () => {
        let failed: unknown;
        const controller = await new Watch(kc).watch(
          `/apis/${group}/v1/namespaces/widgets/${plural}`,
          {},
          (phase, obj: { metadata: { name: string } }) => seen.push(`${phase} ${obj.metadata.name}`),
          (err) => {
            failed = err ?? 'closed';
          },
        );
        await new Promise((r) => setTimeout(r, 300));
        if (failed !== undefined) throw new Error(`watch ended: ${String(failed)}`);
        return controller;
      },
      { timeout: 20_000, interval: 200 },
    );
    try {
      await custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace: 'widgets',
        plural,
        body: widget('widgets', 'first', { size: 3 }),
      });
      const got = (await custom.getNamespacedCustomObject({
        group,
        version: 'v1',
        namespace: 'widgets',
        plural,
        name: 'first',
      })) as { spec: { size: number } };
      expect(got.spec.size).toBe(3);
      const list = (await custom.listNamespacedCustomObject({
        group,
        version: 'v1',
        namespace: 'widgets',
        plural,
      })) as {
        items: unknown[];
      };
      expect(list.items).toHaveLength(1);
      await vi.waitFor(() => expect(seen).toContain('ADDED first'), { timeout: 10_000 });
    } finally {
      watch.abort();
    }
  });

  it('rejects an object that breaks the CRD schema, naming the field', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const err = await custom
      .createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace: 'widgets',
        plural,
        body: widget('widgets', 'tiny', { size: 0 }),
      })
      .catch((e: unknown) => e);
    expect(statusOf(err)).toBe(422);
    expect(String((err as ApiException<unknown>).body)).toContain('spec.size');
  });

  it('server-side applies with a field manager and reports a conflict between managers as 409', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const applied = await objects.patch<KubernetesObject>(
      widget('widgets', 'shared', { size: 2, color: 'blue' }),
      undefined,
      undefined,
      'team-a',
      undefined,
      PatchStrategy.ServerSideApply,
    );
    expect(applied.metadata?.managedFields?.map((f) => f.manager)).toContain('team-a');
    const conflict = await objects
      .patch(
        widget('widgets', 'shared', { color: 'red' }),
        undefined,
        undefined,
        'team-b',
        false,
        PatchStrategy.ServerSideApply,
      )
      .catch((e: unknown) => e);
    expect(statusOf(conflict)).toBe(409);
    expect(String((conflict as ApiException<unknown>).body)).toMatch(/conflict.*team-a/is);
    const forced = (await objects.patch(
      widget('widgets', 'shared', { color: 'red' }),
      undefined,
      undefined,
      'team-b',
      true,
      PatchStrategy.ServerSideApply,
    )) as ReturnType<typeof widget>;
    expect(forced.spec.color).toBe('red');
  });
});

describe('pod security admission', () => {
  const restrictedPod = (namespace: string) => ({
    metadata: { name: 'compliant', namespace },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          image: 'registry.example/app:1.0.0',
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            readOnlyRootFilesystem: true,
          },
        },
      ],
    },
  });

  it('rejects a privileged pod and accepts a restricted one in an enforce=restricted namespace', async () => {
    await createNamespace(kc, 'locked', restrictedNamespaceLabels);
    const core = kc.makeApiClient(CoreV1Api);
    const privileged = {
      metadata: { name: 'privileged', namespace: 'locked' },
      spec: {
        containers: [
          { name: 'app', image: 'registry.example/app:1.0.0', securityContext: { privileged: true } },
        ],
      },
    };
    const rejected = await core
      .createNamespacedPod({ namespace: 'locked', body: privileged, dryRun: 'All' })
      .catch((e: unknown) => e);
    expect(statusOf(rejected)).toBe(403);
    expect(String((rejected as ApiException<unknown>).body)).toMatch(/violates PodSecurity .*restricted/);
    const accepted = await core.createNamespacedPod({
      namespace: 'locked',
      body: restrictedPod('locked'),
      dryRun: 'All',
    });
    expect(accepted.metadata?.name).toBe('compliant');
  });
});

describe('RBAC', () => {
  it('denies a ServiceAccount token without a Role and allows it once a Role is bound', async () => {
    await createNamespace(kc, 'rbac');
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: 'rbac', body: { metadata: { name: 'reader' } } });
    const token = await core.createNamespacedServiceAccountToken({
      namespace: 'rbac',
      name: 'reader',
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const asReader = new KubeConfig();
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no cluster');
    asReader.loadFromClusterAndUser(cluster, { name: 'reader', token: token.status?.token ?? '' });
    const readerCore = asReader.makeApiClient(CoreV1Api);

    const review = await kc.makeApiClient(AuthenticationV1Api).createTokenReview({
      body: { spec: { token: token.status?.token ?? '' } },
    });
    expect(review.status?.user?.username).toBe('system:serviceaccount:rbac:reader');

    const denied = await readerCore.listNamespacedConfigMap({ namespace: 'rbac' }).catch((e: unknown) => e);
    expect(statusOf(denied)).toBe(403);

    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: 'rbac',
      body: {
        metadata: { name: 'configmap-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'rbac',
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'rbac' }],
      },
    });
    await vi.waitFor(
      async () =>
        expect((await readerCore.listNamespacedConfigMap({ namespace: 'rbac' })).items).toBeDefined(),
      {
        timeout: 10_000,
      },
    );
    const stillDenied = await readerCore.listNamespacedSecret({ namespace: 'rbac' }).catch((e: unknown) => e);
    expect(statusOf(stillDenied)).toBe(403);
  });
});

describe('API server restart', () => {
  it('a client that resumes its watch after restart() sees the changes made while it was disconnected', async () => {
    await createNamespace(kc, 'restart');
    const core = kc.makeApiClient(CoreV1Api);
    const path = '/api/v1/namespaces/restart/configmaps';
    type Item = { metadata: { name: string; resourceVersion: string }; code?: number };
    const view = new Set<string>();
    let resourceVersion = '';
    let relists = 0;
    const list = async () => {
      const items = await core.listNamespacedConfigMap({ namespace: 'restart' });
      view.clear();
      for (const cm of items.items) view.add(cm.metadata?.name ?? '');
      resourceVersion = items.metadata?.resourceVersion ?? '';
    };
    // What an informer does: watch from the last version seen; on 410 Gone, list again and re-watch.
    const watchFromLastVersion = async (onEnd: (err: unknown) => void): Promise<AbortController> =>
      await new Watch(kc).watch(
        path,
        { resourceVersion },
        (phase, obj: Item) => {
          if (phase === 'ERROR') {
            if (obj.code === 410) {
              relists++;
              void list().then(() => watchFromLastVersion(onEnd));
            }
            return;
          }
          resourceVersion = obj.metadata.resourceVersion;
          if (phase === 'DELETED') view.delete(obj.metadata.name);
          else view.add(obj.metadata.name);
        },
        onEnd,
      );
    await list();
    let broken = false;
    const first = await watchFromLastVersion(() => {
      broken = true;
    });
    await core.createNamespacedConfigMap({ namespace: 'restart', body: { metadata: { name: 'before' } } });
    await vi.waitFor(() => expect(view).toContain('before'), { timeout: 10_000 });

    await cp.restart();
    await vi.waitFor(() => expect(broken).toBe(true), { timeout: 10_000 });
    // Written after the watch broke and before it resumes: only a resumed watch can see them.
    await core.createNamespacedConfigMap({ namespace: 'restart', body: { metadata: { name: 'during' } } });
    await core.deleteNamespacedConfigMap({ namespace: 'restart', name: 'before' });

    const resumed = await watchFromLastVersion(() => {});
    try {
      await vi.waitFor(
        () => {
          expect(view.has('during')).toBe(true);
          expect(view.has('before')).toBe(false);
        },
        { timeout: 10_000 },
      );
      expect(relists).toBeLessThanOrEqual(1);
    } finally {
      first.abort();
      resumed.abort();
    }
  });

  it('a watch from a compacted resource version ends with 410 Gone (watch cache off)', async () => {
    // With the watch cache on, recent versions are served from memory; off, compaction is felt at once.
    const direct = await startControlPlane({ apiServerArgs: ['--watch-cache=false'] });
    try {
      const dkc = direct.kubeConfig;
      const core = dkc.makeApiClient(CoreV1Api);
      const list = await core.listNamespacedConfigMap({ namespace: 'default' });
      const oldVersion = list.metadata?.resourceVersion ?? '';
      // Two writes: the watch from oldVersion needs the first, which compaction then removes.
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'newer' } } });
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'newest' } } });
      await direct.compactEtcd();
      const errors: unknown[] = [];
      const events: { type: string; object: { code?: number } }[] = [];
      await new Watch(dkc).watch(
        '/api/v1/namespaces/default/configmaps',
        { resourceVersion: oldVersion },
        (type, object: { code?: number }) => events.push({ type, object }),
        (err) => errors.push(err),
      );
      await vi.waitFor(() => expect(events.length + errors.length).toBeGreaterThan(0), { timeout: 10_000 });
      const gone = events.find((e) => e.type === 'ERROR')?.object.code ?? statusOf(errors[0]);
      expect(gone).toBe(410);
    } finally {
      await direct.stop();
    }
    expect(existsSync(direct.dir)).toBe(false);
  });
});
