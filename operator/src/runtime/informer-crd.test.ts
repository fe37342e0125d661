/**
 * The informer on PerformanceProfiles with the API server's watch cache on, as in a cluster:
 * started before the CRD exists, it waits (retrying 404 and the new resource's 429s with backoff)
 * and syncs once the CRD is served; after an API server restart, whose new watch cache starts at
 * the current revision, resuming the old watch meets 410 Gone and the informer relists.
 */
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../test/cluster/control-plane.ts';
import { createNamespace } from '../../../test/cluster/kube.ts';
import { CRD_NAME, GROUP, KIND, PLURAL, VERSION } from '../api/v1alpha1/constants.ts';
import type { PerformanceProfile } from '../api/v1alpha1/performance-profile.ts';
import { createOperatorMetrics } from '../telemetry/metrics.ts';
import { Informer, objectKey } from './informer.ts';

const crdFile = join(import.meta.dirname, `../../../crds/${CRD_NAME}.yaml`);
const eventually = { timeout: 30_000, interval: 100 };

describe('Informer on PerformanceProfiles (watch cache on)', () => {
  let cp: ControlPlane;
  const namespace = 'profiles';

  beforeAll(async () => {
    cp = await startControlPlane();
    await createNamespace(cp.kubeConfig, namespace);
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('syncs once the CRD appears, and relists after a restart meets 410 Gone', async () => {
    const metrics = createOperatorMetrics(new Registry());
    const informer = new Informer<PerformanceProfile>({
      kubeConfig: cp.kubeConfig,
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespaces: [namespace],
      backoff: { initialMs: 100, maxMs: 1000 },
      metrics,
    });
    const events: string[] = [];
    informer.on('add', (obj) => events.push(`add ${objectKey(obj)} ${obj.kind}`));
    informer.on('delete', (obj) => events.push(`delete ${objectKey(obj)}`));
    try {
      let synced = false;
      const starting = informer.start().then(() => {
        synced = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(synced).toBe(false);

      // kubectl rather than client-node: client-node's serializer drops the schema's `default` fields.
      await cp.kubectl(['apply', '-f', crdFile]);
      await starting;
      expect(informer.hasSynced()).toBe(true);
      expect(events).toEqual([]);

      const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
      const profile = (name: string) => ({
        apiVersion: `${GROUP}/${VERSION}`,
        kind: KIND,
        metadata: { name },
        spec: { targetRef: { name: 'risk-api' } },
      });
      const createProfile = async (name: string) => {
        // A just-established CRD may still refuse writes for a moment.
        await vi.waitFor(
          () =>
            custom.createNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace,
              plural: PLURAL,
              body: profile(name),
            }),
          eventually,
        );
      };
      await createProfile('first');
      await vi.waitFor(() => expect(events).toEqual([`add ${namespace}/first ${KIND}`]), eventually);
      // Defaults from the schema arrive in the stored object.
      expect(informer.get(`${namespace}/first`)?.spec.mode).toBe('Recommend');

      // Move etcd's revision past the informer's resource version, so the new cache starts later.
      await cp.kubeConfig
        .makeApiClient(CoreV1Api)
        .createNamespacedConfigMap({ namespace, body: { metadata: { name: 'bump' } } });
      await cp.restart();
      await custom.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name: 'first',
      });
      await createProfile('second');
      await vi.waitFor(
        () =>
          expect(events).toEqual([
            `add ${namespace}/first ${KIND}`,
            `delete ${namespace}/first`,
            `add ${namespace}/second ${KIND}`,
          ]),
        eventually,
      );
      expect((await metrics.relists.get()).values[0]?.value ?? 0).toBeGreaterThanOrEqual(1);
      expect(informer.list().map(objectKey)).toEqual([`${namespace}/second`]);
    } finally {
      informer.stop();
    }
  });
});
