/**
 * kube-http's writes on a real kube-apiserver: what the operator's status write relies on (the
 * answer parsed, a conflict and a missing object told apart as client-node's ApiException is).
 */
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../test/cluster/control-plane.ts';
import { createNamespace } from '../../../test/cluster/kube.ts';
import { errorMessage, errorPolicy } from '../controller/error-policy.ts';
import { KubeHttpError, patchJson } from './kube-http.ts';
import { pooled } from './pooled-kube-config.ts';

describe('patchJson', () => {
  let cp: ControlPlane;
  const namespace = 'kube-http';
  const path = (name: string) => `/api/v1/namespaces/${namespace}/configmaps/${name}`;
  const mergePatch = 'application/merge-patch+json';
  /** storedKnobs is the ConfigMap's data as the API server holds it now. */
  const storedKnobs = async () =>
    (await cp.kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace, name: 'knobs' })).data;

  beforeAll(async () => {
    cp = await startControlPlane();
    await createNamespace(cp.kubeConfig, namespace);
    await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'knobs' }, data: { DB_POOL_SIZE: '5' } },
    });
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('patches and returns the object the API server stored', async () => {
    const kubeConfig = pooled(cp.kubeConfig);
    try {
      const updated = await patchJson<{ data: Record<string, string> }>(
        kubeConfig,
        path('knobs'),
        { data: { DB_POOL_SIZE: '7' } },
        mergePatch,
        10_000,
      );
      expect(updated.data).toEqual({ DB_POOL_SIZE: '7' });
      expect(await storedKnobs()).toEqual({ DB_POOL_SIZE: '7' });
    } finally {
      await kubeConfig.close();
    }
  });

  it.each([
    {
      name: 'a stale resourceVersion is a conflict, retried',
      object: 'knobs',
      body: { metadata: { resourceVersion: '1' }, data: { DB_POOL_SIZE: '9' } },
      code: 409,
      verdict: { kind: 'temporary', reason: 'Conflict' },
    },
    {
      name: 'a missing object is 404, not retried',
      object: 'absent',
      body: { data: { DB_POOL_SIZE: '9' } },
      code: 404,
      verdict: { kind: 'permanent', reason: 'HTTP404' },
    },
    {
      name: 'an invalid value is 422, not retried',
      object: 'knobs',
      body: { data: { 'not a key!': '9' } },
      code: 422,
      verdict: { kind: 'permanent', reason: 'Invalid' },
    },
  ])('$name', async ({ object, body, code, verdict }) => {
    const kubeConfig = pooled(cp.kubeConfig);
    try {
      const err = await patchJson(kubeConfig, path(object), body, mergePatch, 10_000).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KubeHttpError);
      expect(err).toBeInstanceOf(ApiException);
      expect((err as KubeHttpError).code).toBe(code);
      expect(errorPolicy(err)).toMatchObject(verdict);
      // The Status message, not the raw body, goes to logs and Events.
      expect(errorMessage(err)).toMatch(new RegExp(`^HTTP ${code}: [^{]`));
      expect(await storedKnobs()).toEqual({ DB_POOL_SIZE: '7' });
    } finally {
      await kubeConfig.close();
    }
  });
});
