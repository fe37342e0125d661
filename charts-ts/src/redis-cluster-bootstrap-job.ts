import type { V1Job } from '@kubernetes/client-node';
import { Construct } from 'constructs';
import { DNS_EGRESS, kubeObject, networkPolicy } from './kube-object.ts';
import { appLabels, selectorLabels } from './labels.ts';
import {
  containerResources,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from './pod-security.ts';
import { REDIS_PORT } from './redis-cluster.ts';

/** Props of RedisClusterBootstrapJob. */
export interface RedisClusterBootstrapJobProps {
  /** namespace of the Job. */
  readonly namespace: string;
  /** clusterName is the Redis StatefulSet's name. */
  readonly clusterName: string;
  /** headlessServiceName resolves every node. */
  readonly headlessServiceName: string;
  /** clusterDomain is the cluster's DNS domain. */
  readonly clusterDomain: string;
  /** nodes is the number of Redis pods. */
  readonly nodes: number;
  /** replicasPerMaster is passed to `redis-cli --cluster create --cluster-replicas`. */
  readonly replicasPerMaster: number;
  /** image is the Redis image (for redis-cli). */
  readonly image: string;
  /** passwordSecret names the Secret with the Redis password. */
  readonly passwordSecret: { readonly name: string; readonly key: string };
  /**
   * backoffLimit is how often the Job retries while nodes come up.
   * @default 20
   */
  readonly backoffLimit?: number;
}

/**
 * RedisClusterBootstrapJob creates the cluster once and is safe to re-run: when the nodes already
 * form a cluster it only re-introduces every node at its current IP (CLUSTER MEET is idempotent),
 * which also repairs a cluster whose pods all restarted with new IPs.
 */
export class RedisClusterBootstrapJob extends Construct {
  /** name of the Job. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: RedisClusterBootstrapJobProps) {
    super(scope, id);
    const backoffLimit = props.backoffLimit ?? 20;
    if (!Number.isInteger(backoffLimit) || backoffLimit < 0 || backoffLimit > 100) {
      throw new Error(
        `RedisClusterBootstrapJob: backoffLimit must be an integer from 0 to 100, got ${backoffLimit}`,
      );
    }
    if (props.nodes < 3 * (1 + props.replicasPerMaster)) {
      throw new Error(
        `RedisClusterBootstrapJob: nodes must be at least 3 x (1 + replicasPerMaster) = ${3 * (1 + props.replicasPerMaster)}, got ${props.nodes}`,
      );
    }
    this.name = `${props.clusterName}-bootstrap`;
    const labels = appLabels(this.name, 'cache-bootstrap');
    const suffix = `${props.headlessServiceName}.${props.namespace}.svc.${props.clusterDomain}`;

    kubeObject<V1Job>(this, 'Job', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: this.name, namespace: props.namespace, labels },
      spec: {
        backoffLimit,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'OnFailure',
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(10001),
            containers: [
              {
                name: 'bootstrap',
                image: props.image,
                imagePullPolicy: 'IfNotPresent',
                command: [
                  'sh',
                  '-c',
                  bootstrapScript(
                    Array.from(
                      { length: props.nodes },
                      (_, i) => `${props.clusterName}-${i}.${suffix}:${REDIS_PORT}`,
                    ),
                    props.replicasPerMaster,
                  ),
                ],
                env: [
                  {
                    name: 'REDISCLI_AUTH',
                    valueFrom: {
                      secretKeyRef: { name: props.passwordSecret.name, key: props.passwordSecret.key },
                    },
                  },
                ],
                resources: containerResources({
                  cpuRequestMillis: 50,
                  cpuLimitMillis: 200,
                  memoryRequestMiB: 32,
                  memoryLimitMiB: 64,
                }),
                securityContext: restrictedContainerSecurityContext(),
              },
            ],
          },
        },
      },
    });

    // The Job serves nothing: no ingress at all. It only resolves and calls the nodes.
    networkPolicy(this, { name: this.name, namespace: props.namespace, labels }, selectorLabels(this.name), {
      ingress: [],
      egress: [
        {
          to: [{ podSelector: { matchLabels: selectorLabels(props.clusterName) } }],
          ports: [{ protocol: 'TCP', port: REDIS_PORT }],
        },
        DNS_EGRESS,
      ],
    });
  }
}

/**
 * bootstrapScript waits for every node (`host:port`), then creates the cluster, or, when the
 * first node already knows others, re-introduces every node at its current address.
 */
export function bootstrapScript(endpoints: readonly string[], replicas: number): string {
  return `set -eu
NODES="${endpoints.join(' ')}"
ip_of() { getent hosts "$1" | awk '{print $1; exit}'; }
ADDRS=""
for n in $NODES; do
  h=\${n%:*}; p=\${n##*:}
  until [ -n "$(ip_of "$h")" ] && redis-cli -h "$h" -p "$p" ping | grep -q PONG; do
    echo "waiting for $n"; sleep 2
  done
  ADDRS="$ADDRS $(ip_of "$h"):$p"
done
FIRST=\${NODES%% *}
FH=\${FIRST%:*}; FP=\${FIRST##*:}
KNOWN=$(redis-cli -h "$FH" -p "$FP" cluster info | tr -d '\\r' | sed -n 's/^cluster_known_nodes://p')
if [ "\${KNOWN:-1}" -gt 1 ]; then
  echo "cluster exists ($KNOWN nodes known): re-introducing every node at its current address"
  for a in $ADDRS; do redis-cli -h "$FH" -p "$FP" cluster meet "\${a%:*}" "\${a##*:}" >/dev/null; done
  redis-cli --cluster check "$FH:$FP"
  exit 0
fi
echo "creating the cluster:$ADDRS"
redis-cli --cluster create $ADDRS --cluster-replicas ${replicas} --cluster-yes
`;
}
