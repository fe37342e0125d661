import type { V1ConfigMap, V1Deployment, V1Service, V1ServiceAccount } from '@kubernetes/client-node';
import { Construct } from 'constructs';
import { configHash } from '../../operator/src/api/v1alpha1/config-hash.ts';
import { CONFIG_HASH_ANNOTATION } from '../../operator/src/api/v1alpha1/constants.ts';
import { DNS_EGRESS, kubeObject, networkPolicy, podDisruptionBudget } from './kube-object.ts';
import { appLabels, selectorLabels } from './labels.ts';
import { preferOnePodPerNode } from './pod-placement.ts';
import {
  containerResources,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from './pod-security.ts';
import type { Values } from './values.ts';
import { POSTGRES_PORT } from './values-api.ts';

const API_UID = 10001;

/**
 * Where the tuning ConfigMap is mounted; the API watches the files (TUNING_CONFIG_DIR) and resizes
 * its pool in place when the operator changes DB_POOL_SIZE or DB_MAX_OVERFLOW.
 */
export const TUNING_MOUNT_PATH = '/etc/perfpilot/tuning';

/** Props of RiskApi. */
export interface RiskApiProps {
  /** namespace of every object. */
  readonly namespace: string;
  /** config is the `api` section of the values. */
  readonly config: Values['api'];
  /** redisHost is the Redis client Service's DNS name (REDIS_HOST). */
  readonly redisHost: string;
  /** redisPort is REDIS_PORT. */
  readonly redisPort: number;
  /** redisPasswordSecret names the Secret with the Redis password. */
  readonly redisPasswordSecret: { readonly name: string; readonly key: string };
  /** monitoringNamespace may scrape the metrics path. */
  readonly monitoringNamespace: string;
  /**
   * ingressFrom restricts who may call the API; empty means any pod in any namespace.
   * @default []
   */
  readonly ingressFrom?: readonly Record<string, unknown>[];
  /**
   * databasePort is the TCP port of DATABASE_URL's server, the one address outside the stack the
   * API reaches. The URL is in a Secret, so its host is not known here: any host on this port.
   * @default POSTGRES_PORT (5432)
   */
  readonly databasePort?: number;
}

/**
 * RiskApi is the Redis-cached API (`perfpilot risk-api` in the project's one image): its tuning
 * ConfigMap (the seed's environment), a Deployment without `replicas` (the HPA owns it) that reads
 * the ConfigMap as environment and as a watched volume (the pool is resized in place) and whose pod
 * template carries the ConfigMap's hash so a change also rolls the pods, a Service, a
 * PodDisruptionBudget and a NetworkPolicy.
 */
export class RiskApi extends Construct {
  /** name of the Deployment, Service and PDB. */
  readonly name: string;
  /** tuningConfigMapName is the ConfigMap the operator tunes (DB_POOL_SIZE, DB_MAX_OVERFLOW). */
  readonly tuningConfigMapName: string;
  /** podLabels select the API pods. */
  readonly podLabels: Record<string, string>;
  /** tuning is the ConfigMap's data. */
  readonly tuning: Record<string, string>;

  constructor(scope: Construct, id: string, props: RiskApiProps) {
    super(scope, id);
    const c = props.config;
    if (c.pool.size < 1) throw new Error(`RiskApi: config.pool.size must be at least 1, got ${c.pool.size}`);
    if (props.redisPort < 1 || props.redisPort > 65535) {
      throw new Error(`RiskApi: redisPort must be from 1 to 65535, got ${props.redisPort}`);
    }
    const databasePort = props.databasePort ?? POSTGRES_PORT;
    if (!Number.isInteger(databasePort) || databasePort < 1 || databasePort > 65535) {
      throw new Error(`RiskApi: databasePort must be an integer from 1 to 65535, got ${databasePort}`);
    }
    this.name = c.name;
    this.tuningConfigMapName = `${c.name}-tuning`;
    this.podLabels = selectorLabels(c.name);
    const ns = props.namespace;
    const labels = appLabels(c.name, 'api');
    this.tuning = tuningEnvironment(c, props.redisHost, props.redisPort);

    kubeObject<V1ServiceAccount>(this, 'ServiceAccount', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: c.name, namespace: ns, labels },
      automountServiceAccountToken: false,
    });

    kubeObject<V1ConfigMap>(this, 'Tuning', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: this.tuningConfigMapName, namespace: ns, labels },
      data: this.tuning,
    });

    kubeObject<V1Deployment>(this, 'Deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: c.name, namespace: ns, labels },
      spec: {
        // No `replicas`: the HorizontalPodAutoscaler owns it, and applying a fixed count would fight it.
        revisionHistoryLimit: 5,
        selector: { matchLabels: this.podLabels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
        template: {
          metadata: { labels, annotations: { [CONFIG_HASH_ANNOTATION]: configHash(this.tuning) } },
          spec: {
            serviceAccountName: c.name,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(API_UID),
            terminationGracePeriodSeconds: 30,
            affinity: preferOnePodPerNode(this.podLabels),
            containers: [
              {
                name: 'api',
                image: c.image,
                imagePullPolicy: 'IfNotPresent',
                // The image's entrypoint runs the perfpilot CLI; args pick the subcommand.
                args: [...c.args],
                ports: [{ name: 'http', containerPort: c.port, protocol: 'TCP' }],
                envFrom: [{ configMapRef: { name: this.tuningConfigMapName } }],
                env: [
                  { name: 'PORT', value: String(c.port) },
                  { name: 'TUNING_CONFIG_DIR', value: TUNING_MOUNT_PATH },
                  {
                    name: 'DATABASE_URL',
                    valueFrom: {
                      secretKeyRef: { name: c.databaseUrlSecret.name, key: c.databaseUrlSecret.key },
                    },
                  },
                  {
                    name: 'REDIS_PASSWORD',
                    valueFrom: {
                      secretKeyRef: {
                        name: props.redisPasswordSecret.name,
                        key: props.redisPasswordSecret.key,
                      },
                    },
                  },
                ],
                resources: containerResources(c.resources),
                securityContext: restrictedContainerSecurityContext(),
                startupProbe: {
                  httpGet: { path: c.healthPath, port: 'http' },
                  periodSeconds: 5,
                  failureThreshold: 30,
                },
                readinessProbe: {
                  httpGet: { path: c.readinessPath, port: 'http' },
                  periodSeconds: 10,
                  timeoutSeconds: 2,
                  failureThreshold: 3,
                },
                livenessProbe: {
                  httpGet: { path: c.healthPath, port: 'http' },
                  periodSeconds: 20,
                  timeoutSeconds: 3,
                  failureThreshold: 5,
                },
                volumeMounts: [
                  { name: 'tmp', mountPath: '/tmp' },
                  { name: 'tuning', mountPath: TUNING_MOUNT_PATH, readOnly: true },
                ],
              },
            ],
            volumes: [
              // Node's compile cache and any temporary files: the root filesystem is read-only.
              { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
              { name: 'tuning', configMap: { name: this.tuningConfigMapName } },
            ],
          },
        },
      },
    });

    kubeObject<V1Service>(this, 'Service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: c.name, namespace: ns, labels },
      spec: {
        type: 'ClusterIP',
        selector: this.podLabels,
        ports: [{ name: 'http', port: c.port, targetPort: 'http', protocol: 'TCP' }],
      },
    });

    podDisruptionBudget(this, { name: c.name, namespace: ns, labels }, this.podLabels);

    networkPolicy(this, { name: c.name, namespace: ns, labels }, this.podLabels, {
      ingress: [
        {
          // Clients (and Prometheus, which scrapes the same port's metrics path).
          ...(props.ingressFrom && props.ingressFrom.length > 0 ? { from: [...props.ingressFrom] } : {}),
          ports: [{ protocol: 'TCP', port: c.port }],
        },
      ],
      // The database and names to resolve; RedisCluster lets its clients out to the nodes.
      egress: [{ ports: [{ protocol: 'TCP', port: databasePort }] }, DNS_EGRESS],
    });
  }
}

/** tuningEnvironment is the seed's environment for the API, as ConfigMap data. */
export function tuningEnvironment(
  c: Values['api'],
  redisHost: string,
  redisPort: number,
): Record<string, string> {
  return {
    DB_POOL_SIZE: String(c.pool.size),
    DB_MAX_OVERFLOW: String(c.pool.maxOverflow),
    DB_POOL_TIMEOUT: String(c.pool.timeoutSeconds),
    DB_POOL_RECYCLE: String(c.pool.recycleSeconds),
    DB_POOL_PRE_PING: String(c.pool.prePing),
    CACHE_TTL_DEFAULT: String(c.cacheTtlDefaultSeconds),
    CACHE_STRATEGIES: JSON.stringify(
      Object.fromEntries(
        Object.entries(c.cacheStrategies)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([type, s]) => [type, { ttl: s.ttlSeconds, strategy: s.strategy }]),
      ),
    ),
    ASYNC_WORKERS: String(c.asyncWorkers),
    PROFILER_ENABLED: String(c.profilerEnabled),
    MONITORING_ENABLED: String(c.monitoringEnabled),
    REDIS_HOST: redisHost,
    REDIS_PORT: String(redisPort),
    REDIS_CLUSTER: 'true',
  };
}
