/**
 * What `perfpilot init` reads of a Deployment, read-only: the Deployment, the HPA that scales it
 * (and the KEDA ScaledObject that owns that HPA), the env vars and ConfigMaps its containers read
 * that look like pool settings, and the Redis Services of its namespace.
 */
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  type KubeConfig,
  type V1ConfigMap,
  type V1Container,
} from '@kubernetes/client-node';
import { readIfExists } from '../actuators/server-side-apply.ts';
import type { FoundPoolSetting, WorkloadFindings } from './draft-profile.ts';
import { kedaOwnerOf } from './field-owners.ts';
import { isRedisPasswordName, recognisePoolSetting } from './pool-setting-names.ts';

const REDIS_PORT = 6379;

/** readWorkload reads a Deployment and its namespace into findings; a missing Deployment throws. */
export async function readWorkload(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
): Promise<WorkloadFindings> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const autoscaling = kubeConfig.makeApiClient(AutoscalingV2Api);
  const deployment = await readIfExists(() => apps.readNamespacedDeployment({ namespace, name }));
  if (!deployment) throw new Error(`Deployment ${namespace}/${name} not found`);
  const [hpas, services] = await Promise.all([
    autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }),
    core.listNamespacedService({ namespace }),
  ]);
  const hpa = hpas.items.find(
    (h) => h.spec?.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === name,
  );
  const containers: V1Container[] = [
    ...(deployment.spec?.template.spec?.initContainers ?? []),
    ...(deployment.spec?.template.spec?.containers ?? []),
  ];
  const configMaps = new Map<string, Promise<V1ConfigMap | undefined>>();
  const readConfigMap = (cm: string) => {
    let read = configMaps.get(cm);
    if (!read) {
      // A ConfigMap the user may not read is left unread: init drafts from what it can see.
      read = readIfExists(() => core.readNamespacedConfigMap({ namespace, name: cm })).catch(() => undefined);
      configMaps.set(cm, read);
    }
    return read;
  };
  const poolSettings: FoundPoolSetting[] = [];
  let redisPassword: WorkloadFindings['redisPassword'];
  for (const container of containers) {
    for (const env of container.env ?? []) {
      const secretRef = env.valueFrom?.secretKeyRef;
      if (secretRef?.name && isRedisPasswordName(env.name) && !redisPassword) {
        redisPassword = {
          env: env.name,
          container: container.name,
          secret: secretRef.name,
          key: secretRef.key,
        };
      }
      const setting = recognisePoolSetting(env.name);
      if (!setting) continue;
      const ref = env.valueFrom?.configMapKeyRef;
      if (ref?.name) {
        const value = (await readConfigMap(ref.name))?.data?.[ref.key];
        poolSettings.push({
          name: env.name,
          setting,
          source: {
            kind: 'configMap',
            container: container.name,
            configMap: ref.name,
            key: ref.key,
            via: 'configMapKeyRef',
            ...(value !== undefined ? { value } : {}),
          },
        });
      } else if (!env.valueFrom) {
        poolSettings.push({
          name: env.name,
          setting,
          source: {
            kind: 'env',
            container: container.name,
            ...(env.value !== undefined ? { value: env.value } : {}),
          },
        });
      }
    }
    for (const from of container.envFrom ?? []) {
      if (!from.configMapRef?.name) continue;
      const cm = from.configMapRef.name;
      const data = (await readConfigMap(cm))?.data ?? {};
      for (const [key, value] of Object.entries(data)) {
        const name = `${from.prefix ?? ''}${key}`;
        const setting = recognisePoolSetting(name);
        // An env var of the container overrides envFrom; it was recorded above.
        if (!setting || container.env?.some((e) => e.name === name)) continue;
        poolSettings.push({
          name,
          setting,
          source: { kind: 'configMap', container: container.name, configMap: cm, key, via: 'envFrom', value },
        });
      }
    }
  }
  const redisServices = services.items.flatMap((svc) => {
    const ports = svc.spec?.ports ?? [];
    const port =
      ports.find((p) => p.port === REDIS_PORT) ??
      (/redis/i.test(svc.metadata?.name ?? '')
        ? ports.find((p) => !/exporter|metrics/i.test(p.name ?? ''))
        : undefined);
    return port && svc.metadata?.name ? [{ name: svc.metadata.name, port: port.port }] : [];
  });
  // The Service on Redis's own port first: a "redis-exporter" Service is no Redis.
  redisServices.sort((a, b) => Number(b.port === REDIS_PORT) - Number(a.port === REDIS_PORT));
  const scaledObject = kedaOwnerOf(hpa?.metadata?.ownerReferences);
  return {
    namespace,
    deployment: name,
    ...(hpa?.metadata?.name && hpa.spec
      ? {
          hpa: {
            name: hpa.metadata.name,
            maxReplicas: hpa.spec.maxReplicas,
            ...(hpa.spec.minReplicas !== undefined ? { minReplicas: hpa.spec.minReplicas } : {}),
            ...(scaledObject ? { scaledObject } : {}),
          },
        }
      : {}),
    poolSettings,
    redisServices,
    ...(redisPassword ? { redisPassword } : {}),
  };
}
