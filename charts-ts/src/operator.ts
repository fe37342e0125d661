import type { V1Deployment, V1PolicyRule, V1Service } from '@kubernetes/client-node';
import { Construct } from 'constructs';
import { METRICS_CERT_MOUNT } from '../../operator/src/endpoints.ts';
import { OPERATOR_BUNDLE, operatorEnvironment } from '../../operator/src/node-flags.ts';
import { DNS_EGRESS, kubeObject, namespacePeer, networkPolicy, podDisruptionBudget } from './kube-object.ts';
import { appLabels, selectorLabels } from './labels.ts';
import { MetricsAuthRole } from './metrics-auth-role.ts';
import { OperatorRbac, tunedNamespaceRules } from './operator-rbac.ts';
import { preferOnePodPerNode } from './pod-placement.ts';
import {
  containerResources,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from './pod-security.ts';
import type { Values } from './values.ts';

const OPERATOR_UID = 10001;

/** OPERATOR_NAME names the operator's ServiceAccount, Deployment, Service and Roles by default. */
export const OPERATOR_NAME = 'perfpilot-operator';

/** Props of Operator. */
export interface OperatorProps {
  /** namespace the operator runs in. */
  readonly namespace: string;
  /** config is the `operator` section of the values (watchNamespaces, secretNames and rbac included). */
  readonly config: Values['operator'];
  /** secretNames the operator may read besides config.secretNames (the stack's Redis password). */
  readonly secretNames: readonly string[];
  /** monitoringNamespace may scrape /metrics. */
  readonly monitoringNamespace: string;
  /**
   * name of the ServiceAccount, Role, Deployment and Service.
   * @default 'perfpilot-operator'
   */
  readonly name?: string;
  /**
   * podDisruptionBudget keeps one replica up through a node drain.
   * @default true
   */
  readonly podDisruptionBudget?: boolean;
  /**
   * networkPolicy limits the operator's traffic to the API server, Prometheus and DNS.
   * @default true
   */
  readonly networkPolicy?: boolean;
  /**
   * redisPorts the operator may reach in any namespace: the Redis nodes and Sentinels of the
   * services it tunes, where no Redis NetworkPolicy of ours lets it out.
   * @default [] (the stack's RedisCluster lets its clients out itself)
   */
  readonly redisPorts?: readonly number[];
}

/**
 * Operator is the PerfPilot operator: ServiceAccount, a namespaced Role with only the verbs it
 * uses (no wildcards), its binding, a Deployment with probes on a plain-HTTP health port, a
 * metrics port (HTTPS with token and access reviews, and their ClusterRole, unless
 * `metricsSecure` is false) and leader election, a metrics Service, a PodDisruptionBudget and a
 * NetworkPolicy.
 */
export class Operator extends Construct {
  /** name of the ServiceAccount, Role, Deployment and Service. */
  readonly name: string;
  /** podLabels select the operator's pods. */
  readonly podLabels: Record<string, string>;
  /** metricsServiceName is the Service in front of /metrics; a certificate for it names `<it>.<namespace>.svc`. */
  readonly metricsServiceName: string;
  /** rules are the rules of each tuned namespace's Role, for tests and docs. */
  readonly rules: readonly V1PolicyRule[];

  constructor(scope: Construct, id: string, props: OperatorProps) {
    super(scope, id);
    const c = props.config;
    if (!Number.isInteger(c.metricsPort) || c.metricsPort < 1024 || c.metricsPort > 65535) {
      throw new Error(
        `Operator: config.metricsPort must be an integer from 1024 to 65535, got ${c.metricsPort}`,
      );
    }
    if (!Number.isInteger(c.healthPort) || c.healthPort < 1024 || c.healthPort > 65535) {
      throw new Error(
        `Operator: config.healthPort must be an integer from 1024 to 65535, got ${c.healthPort}`,
      );
    }
    if (c.healthPort === c.metricsPort) {
      throw new Error(
        `Operator: config.healthPort must differ from config.metricsPort, both are ${c.metricsPort}`,
      );
    }
    if (!c.metricsSecure && c.metricsCertSecret) {
      throw new Error(
        `Operator: config.metricsCertSecret (${c.metricsCertSecret}) needs config.metricsSecure: true`,
      );
    }
    if (c.replicas < 1 || c.replicas > 5) {
      throw new Error(`Operator: config.replicas must be from 1 to 5, got ${c.replicas}`);
    }
    this.name = props.name ?? OPERATOR_NAME;
    this.podLabels = selectorLabels(this.name);
    this.metricsServiceName = `${this.name}-metrics`;
    const ns = props.namespace;
    const labels = appLabels(this.name, 'operator');
    const secretNames = [...new Set([...props.secretNames, ...c.secretNames])];
    this.rules = tunedNamespaceRules(secretNames);
    const rbac = new OperatorRbac(this, 'Rbac', {
      namespace: ns,
      name: this.name,
      labels,
      watchNamespaces: c.watchNamespaces,
      secretNames,
      aggregateToDefaultRoles: c.rbac.aggregateToDefaultRoles,
    });
    const watchNamespace = rbac.watchNamespaceEnv;

    // The reviews behind a secure /metrics (runtime/metrics-auth.ts) are cluster-scoped.
    if (c.metricsSecure) {
      new MetricsAuthRole(this, 'MetricsAuthRole', { serviceAccount: { name: this.name, namespace: ns } });
    }
    const certVolume = c.metricsCertSecret
      ? { name: 'metrics-certs', secret: { secretName: c.metricsCertSecret } }
      : undefined;

    kubeObject<V1Deployment>(this, 'Deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: this.name, namespace: ns, labels },
      spec: {
        replicas: c.replicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: this.podLabels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: this.name,
            securityContext: restrictedPodSecurityContext(OPERATOR_UID),
            // SIGTERM: finish the current reconcile, release the lease, exit within 30 s.
            terminationGracePeriodSeconds: 40,
            affinity: preferOnePodPerNode(this.podLabels),
            containers: [
              {
                name: 'operator',
                image: c.image,
                imagePullPolicy: 'IfNotPresent',
                // The operator's bundle of the image (rolldown.config.ts): it starts in about half
                // the time of the sources and holds less; args are `perfpilot operator`'s flags.
                command: ['node', OPERATOR_BUNDLE],
                ...(c.args.length > 0 ? { args: [...c.args] } : {}),
                ports: [
                  { name: 'metrics', containerPort: c.metricsPort, protocol: 'TCP' },
                  { name: 'health', containerPort: c.healthPort, protocol: 'TCP' },
                ],
                env: [
                  watchNamespace === undefined
                    ? {
                        name: 'WATCH_NAMESPACE',
                        valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
                      }
                    : { name: 'WATCH_NAMESPACE', value: watchNamespace },
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  { name: 'LOG_LEVEL', value: c.logLevel },
                  { name: 'METRICS_PORT', value: String(c.metricsPort) },
                  { name: 'HEALTH_PORT', value: String(c.healthPort) },
                  ...(c.metricsSecure ? [] : [{ name: 'INSECURE_METRICS', value: 'true' }]),
                  ...(certVolume ? [{ name: 'METRICS_CERT_DIR', value: METRICS_CERT_MOUNT }] : []),
                  // A controller's heap (a small young generation, old space inside the memory
                  // limit) and two malloc arenas (operator/src/node-flags.ts).
                  ...Object.entries(operatorEnvironment()).map(([name, value]) => ({ name, value })),
                ],
                resources: containerResources(c.resources),
                securityContext: restrictedContainerSecurityContext(),
                readinessProbe: {
                  httpGet: { path: '/readyz', port: 'health' },
                  periodSeconds: 10,
                  timeoutSeconds: 2,
                },
                livenessProbe: {
                  httpGet: { path: '/healthz', port: 'health' },
                  initialDelaySeconds: 10,
                  periodSeconds: 20,
                  timeoutSeconds: 3,
                  failureThreshold: 3,
                },
                volumeMounts: [
                  { name: 'tmp', mountPath: '/tmp' },
                  ...(certVolume
                    ? [{ name: certVolume.name, mountPath: METRICS_CERT_MOUNT, readOnly: true }]
                    : []),
                ],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }, ...(certVolume ? [certVolume] : [])],
          },
        },
      },
    });

    kubeObject<V1Service>(this, 'MetricsService', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: this.metricsServiceName,
        namespace: ns,
        labels: { ...labels, 'app.kubernetes.io/component': 'metrics' },
      },
      spec: {
        type: 'ClusterIP',
        selector: this.podLabels,
        ports: [{ name: 'metrics', port: c.metricsPort, targetPort: 'metrics', protocol: 'TCP' }],
      },
    });

    podDisruptionBudget(this, { name: this.name, namespace: ns, labels }, this.podLabels);

    networkPolicy(this, { name: this.name, namespace: ns, labels }, this.podLabels, {
      ingress: [
        {
          from: [namespacePeer(props.monitoringNamespace)],
          ports: [{ protocol: 'TCP', port: c.metricsPort }],
        },
      ],
      egress: [
        // The API server: its address is the cluster's, and network plugins see either the
        // kubernetes Service's port (443) or the server's own (6443 by default).
        {
          ports: [
            { protocol: 'TCP', port: 443 },
            { protocol: 'TCP', port: 6443 },
          ],
        },
        // Prometheus, on whichever port the profile's URL names. RedisCluster lets its clients
        // out to the nodes.
        { to: [namespacePeer(props.monitoringNamespace)] },
        DNS_EGRESS,
        ...((props.redisPorts ?? []).length > 0
          ? [{ ports: (props.redisPorts ?? []).map((port) => ({ protocol: 'TCP' as const, port })) }]
          : []),
      ],
    });
    // Both are built above in every case, so the objects are written once; a chart without them removes them here.
    if (props.podDisruptionBudget === false) this.node.tryRemoveChild('PodDisruptionBudget');
    if (props.networkPolicy === false) this.node.tryRemoveChild('NetworkPolicy');
  }
}
