import type { V1ConfigMap, V1Service, V1ServiceAccount, V1StatefulSet } from '@kubernetes/client-node';
import { Construct } from 'constructs';
import { maxMemoryConf } from '../../operator/src/actuators/redis-maxmemory.ts';
import { REDIS_MAXMEMORY_CONFIG_KEY } from '../../operator/src/api/v1alpha1/constants.ts';
import {
  MAXMEMORY_SHARE_PERCENT,
  maxmemoryCeilingForLimitMiB,
} from '../../operator/src/api/v1alpha1/redis-maxmemory-ceiling.ts';
import {
  kubeObject,
  type NetworkPolicy,
  namespacePeer,
  networkPolicy,
  podDisruptionBudget,
} from './kube-object.ts';
import { appLabels, selectorLabels } from './labels.ts';
import { preferOnePodPerNode } from './pod-placement.ts';
import {
  containerResources,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from './pod-security.ts';
import type { Values } from './values.ts';

/** Non-root UIDs above 10000 (kube-score); Redis needs no user of its image: /data is writable via fsGroup. */
const REDIS_UID = 10001;
const EXPORTER_UID = 59000;
export const REDIS_PORT = 6379;
export const REDIS_BUS_PORT = 16379;
export const REDIS_EXPORTER_PORT = 9121;

/** Props of RedisCluster. */
export interface RedisClusterProps {
  /** namespace of every object. */
  readonly namespace: string;
  /** config is the `redis` section of the values: images, redis.conf settings, sizes. */
  readonly config: Values['redis'];
  /** clusterDomain is the cluster's DNS domain, for the hostnames nodes announce. */
  readonly clusterDomain: string;
  /**
   * clientSelectors are the pods allowed to reach 6379 (the API, the operator): the nodes let them
   * in, and a NetworkPolicy per client lets them out.
   */
  readonly clientSelectors: readonly Record<string, string>[];
  /** monitoringNamespace may scrape the exporter on 9121. */
  readonly monitoringNamespace: string;
  /**
   * name prefixes every object.
   * @default 'redis-cluster'
   */
  readonly name?: string;
}

/**
 * RedisCluster is a 3-master, 3-replica Redis Cluster: redis.conf ConfigMap (the seed's settings
 * plus cluster mode), headless, client and metrics Services, a StatefulSet whose nodes announce
 * stable hostnames, a redis_exporter sidecar, a PodDisruptionBudget, a NetworkPolicy and, for
 * each client, a NetworkPolicy that lets it reach the nodes.
 * The password comes from an existing Secret; nothing secret is generated.
 */
export class RedisCluster extends Construct {
  /** name of the StatefulSet and prefix of every object. */
  readonly name: string;
  /** headlessServiceName gives each node a stable DNS name. */
  readonly headlessServiceName: string;
  /** serviceName is the client Service. */
  readonly serviceName: string;
  /** nodes is the number of pods: masters × (1 + replicasPerMaster). */
  readonly nodes: number;
  /** podLabels select the Redis pods. */
  readonly podLabels: Record<string, string>;
  /** configMapName holds redis.conf and, under REDIS_MAXMEMORY_CONFIG_KEY, the tuned maxmemory. */
  readonly configMapName: string;

  constructor(scope: Construct, id: string, props: RedisClusterProps) {
    super(scope, id);
    const c = props.config;
    if (c.masters < 3) {
      throw new Error(
        `RedisCluster: config.masters must be at least 3 (a cluster needs a quorum), got ${c.masters}`,
      );
    }
    const ceiling = maxmemoryCeilingForLimitMiB(c.resources.memoryLimitMiB);
    if (c.maxmemoryMiB > ceiling) {
      throw new Error(
        `RedisCluster: config.maxmemoryMiB must be at most ${MAXMEMORY_SHARE_PERCENT}% of config.resources.memoryLimitMiB (${ceiling}), got ${c.maxmemoryMiB}`,
      );
    }
    this.name = props.name ?? 'redis-cluster';
    this.headlessServiceName = `${this.name}-headless`;
    this.serviceName = this.name;
    this.nodes = c.masters * (1 + c.replicasPerMaster);
    this.podLabels = selectorLabels(this.name);
    this.configMapName = `${this.name}-config`;
    const ns = props.namespace;
    const labels = appLabels(this.name, 'cache');
    const fqdnSuffix = `${this.headlessServiceName}.${ns}.svc.${props.clusterDomain}`;

    kubeObject<V1ServiceAccount>(this, 'ServiceAccount', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: this.name, namespace: ns, labels },
      automountServiceAccountToken: false,
    });

    kubeObject<V1ConfigMap>(this, 'Config', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: this.configMapName, namespace: ns, labels },
      data: {
        'redis.conf': redisConf(c),
        // The operator writes the same line after CONFIG SET, so a GitOps sync sees no drift.
        [REDIS_MAXMEMORY_CONFIG_KEY]: maxMemoryConf(c.maxmemoryMiB),
        'start.sh': startScript(fqdnSuffix),
      },
    });

    const service = (name: string, component: string, spec: V1Service['spec']) =>
      kubeObject<V1Service>(this, name, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: ns, labels: { ...labels, 'app.kubernetes.io/component': component } },
        spec,
      });
    service(this.headlessServiceName, 'cache-peers', {
      clusterIP: 'None',
      // Nodes must resolve each other before they are ready, or the cluster can never form.
      publishNotReadyAddresses: true,
      selector: this.podLabels,
      ports: [
        { name: 'redis', port: REDIS_PORT, targetPort: 'redis' },
        { name: 'cluster-bus', port: REDIS_BUS_PORT, targetPort: 'cluster-bus' },
      ],
    });
    service(this.serviceName, 'cache', {
      type: 'ClusterIP',
      selector: this.podLabels,
      ports: [{ name: 'redis', port: REDIS_PORT, targetPort: 'redis' }],
    });
    service(`${this.name}-metrics`, 'metrics', {
      type: 'ClusterIP',
      selector: this.podLabels,
      ports: [{ name: 'metrics', port: REDIS_EXPORTER_PORT, targetPort: 'metrics' }],
    });

    const passwordEnv = (name: string) => ({
      name,
      valueFrom: { secretKeyRef: { name: c.passwordSecret.name, key: c.passwordSecret.key } },
    });
    kubeObject<V1StatefulSet>(this, 'StatefulSet', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: this.name, namespace: ns, labels },
      spec: {
        serviceName: this.headlessServiceName,
        replicas: this.nodes,
        // Nodes join by gossip, not by ordinal: start them together.
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        selector: { matchLabels: this.podLabels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: this.name,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(REDIS_UID),
            terminationGracePeriodSeconds: 30,
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'DoNotSchedule',
                labelSelector: { matchLabels: this.podLabels },
              },
            ],
            affinity: preferOnePodPerNode(this.podLabels),
            containers: [
              {
                name: 'redis',
                image: c.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['sh', '/etc/redis/start.sh'],
                ports: [
                  { name: 'redis', containerPort: REDIS_PORT, protocol: 'TCP' },
                  { name: 'cluster-bus', containerPort: REDIS_BUS_PORT, protocol: 'TCP' },
                ],
                env: [
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  passwordEnv('REDIS_PASSWORD'),
                  passwordEnv('REDISCLI_AUTH'),
                ],
                resources: containerResources(c.resources),
                securityContext: restrictedContainerSecurityContext(),
                readinessProbe: {
                  exec: { command: ['sh', '-c', 'redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG'] },
                  initialDelaySeconds: 5,
                  periodSeconds: 10,
                  timeoutSeconds: 3,
                  failureThreshold: 3,
                },
                livenessProbe: {
                  tcpSocket: { port: 'redis' },
                  initialDelaySeconds: 15,
                  periodSeconds: 20,
                  timeoutSeconds: 3,
                  failureThreshold: 5,
                },
                volumeMounts: [
                  { name: 'data', mountPath: '/data' },
                  { name: 'config', mountPath: '/etc/redis', readOnly: true },
                  { name: 'run', mountPath: '/run/redis' },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
              {
                name: 'redis-exporter',
                image: c.exporterImage,
                imagePullPolicy: 'IfNotPresent',
                ports: [{ name: 'metrics', containerPort: REDIS_EXPORTER_PORT, protocol: 'TCP' }],
                env: [
                  { name: 'REDIS_ADDR', value: `redis://127.0.0.1:${REDIS_PORT}` },
                  passwordEnv('REDIS_PASSWORD'),
                ],
                resources: containerResources(c.exporterResources),
                securityContext: restrictedContainerSecurityContext(EXPORTER_UID),
                // Liveness only: a pod is Ready when all its containers are, so an exporter's
                // readiness would take a healthy cache node out of the client Service and count it
                // against the PodDisruptionBudget. /health only answers that the exporter runs.
                livenessProbe: {
                  httpGet: { path: '/health', port: 'metrics' },
                  initialDelaySeconds: 10,
                  periodSeconds: 20,
                  timeoutSeconds: 3,
                },
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: this.configMapName } },
              { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
              { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { name: 'data', labels },
            spec: {
              accessModes: ['ReadWriteOnce'],
              ...(c.storageClassName ? { storageClassName: c.storageClassName } : {}),
              resources: { requests: { storage: `${c.storageGiB}Gi` } },
            },
          },
        ],
      },
    });

    podDisruptionBudget(this, { name: this.name, namespace: ns, labels }, this.podLabels);

    networkPolicy(this, { name: this.name, namespace: ns, labels }, this.podLabels, {
      ingress: [
        {
          // Clients: the API and the operator; other nodes (replication) and the bootstrap Job.
          from: [
            ...props.clientSelectors.map((matchLabels) => ({ podSelector: { matchLabels } })),
            { podSelector: { matchLabels: this.podLabels } },
            { podSelector: { matchLabels: selectorLabels(`${this.name}-bootstrap`) } },
          ],
          ports: [{ protocol: 'TCP', port: REDIS_PORT }],
        },
        {
          from: [{ podSelector: { matchLabels: this.podLabels } }],
          ports: [{ protocol: 'TCP', port: REDIS_BUS_PORT }],
        },
        {
          from: [namespacePeer(props.monitoringNamespace)],
          ports: [{ protocol: 'TCP', port: REDIS_EXPORTER_PORT }],
        },
      ],
      // Nodes reach only each other (replication and the cluster bus), by the IPs in
      // nodes.conf: no name to resolve. The exporter reads Redis on loopback.
      egress: [
        {
          to: [{ podSelector: { matchLabels: this.podLabels } }],
          ports: [
            { protocol: 'TCP', port: REDIS_PORT },
            { protocol: 'TCP', port: REDIS_BUS_PORT },
          ],
        },
      ],
    });

    // Each client may send to the nodes what the nodes accept from it: its own egress policy,
    // beside the ingress rule above, so the two sides cannot drift apart. Policies add up, so
    // this adds to whatever egress the client's own policy allows.
    for (const matchLabels of props.clientSelectors) {
      const client = Object.values(matchLabels).join('-');
      kubeObject<NetworkPolicy>(this, `ClientEgress-${client}`, {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: `${client}-to-${this.name}`, namespace: ns, labels },
        spec: {
          podSelector: { matchLabels },
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ podSelector: { matchLabels: this.podLabels } }],
              ports: [{ protocol: 'TCP', port: REDIS_PORT }],
            },
          ],
        },
      });
    }
  }

  /** nodeAddresses are the stable host:port of every node, e.g. for the operator's seeds. */
  nodeAddresses(namespace: string, clusterDomain: string): string[] {
    return Array.from(
      { length: this.nodes },
      (_, i) =>
        `${this.name}-${i}.${this.headlessServiceName}.${namespace}.svc.${clusterDomain}:${REDIS_PORT}`,
    );
  }
}

/** redisConf is the seed's redis.conf plus cluster mode; secrets and the hostname come at start. */
export function redisConf(c: Values['redis']): string {
  return [
    '# The seed guide’s settings; maxmemory (seed: 512mb) is in maxmemory.conf, which the operator tunes',
    `include /etc/redis/${REDIS_MAXMEMORY_CONFIG_KEY}`,
    `maxmemory-policy ${c.maxmemoryPolicy}`,
    `timeout ${c.timeoutSeconds}`,
    `tcp-keepalive ${c.tcpKeepaliveSeconds}`,
    `hz ${c.hz}`,
    `hash-max-listpack-entries ${c.hashMaxListpackEntries}`,
    `maxclients ${c.maxclients}`,
    '# Cluster mode: nodes.conf lives on the data volume so a restarted pod keeps its identity',
    `port ${REDIS_PORT}`,
    'cluster-enabled yes',
    'cluster-config-file /data/nodes.conf',
    `cluster-node-timeout ${c.clusterNodeTimeoutMs}`,
    `cluster-port ${REDIS_BUS_PORT}`,
    // Clients are redirected by hostname, so a pod that comes back with a new IP stays reachable.
    'cluster-preferred-endpoint-type hostname',
    'cluster-require-full-coverage no',
    'dir /data',
    `appendonly ${c.appendonly ? 'yes' : 'no'}`,
    'appendfsync everysec',
    'protected-mode no',
    '# requirepass, masterauth and cluster-announce-hostname, written by start.sh',
    'include /run/redis/runtime.conf',
    '',
  ].join('\n');
}

/**
 * startScript writes the per-pod settings (password from the Secret, the stable hostname), fixes
 * this node's own address in nodes.conf after an IP change, and starts Redis.
 */
function startScript(fqdnSuffix: string): string {
  return [
    '#!/bin/sh',
    'set -eu',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
    ': "${REDIS_PASSWORD:?REDIS_PASSWORD must come from the password Secret}"',
    'umask 077',
    '{',
    '  printf \'requirepass "%s"\\n\' "$REDIS_PASSWORD"',
    '  printf \'masterauth "%s"\\n\' "$REDIS_PASSWORD"',
    `  printf 'cluster-announce-hostname %s\\n' "$POD_NAME.${fqdnSuffix}"`,
    '} > /run/redis/runtime.conf',
    '# A rescheduled pod has a new IP: correct the "myself" line, peers learn it by gossip.',
    'if [ -f /data/nodes.conf ]; then',
    `  sed -i -e "/myself/ s/[0-9a-f.:]*:${REDIS_PORT}@${REDIS_BUS_PORT}/$POD_IP:${REDIS_PORT}@${REDIS_BUS_PORT}/" /data/nodes.conf`,
    'fi',
    'exec redis-server /etc/redis/redis.conf',
    '',
  ].join('\n');
}
