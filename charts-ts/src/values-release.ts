/**
 * The values of the operator's release: the release bundle (`npm run release`) and the Helm chart
 * take this one model, so `helm template` at its defaults and the bundle are the same objects.
 * Fields the toolkit also has (image, replicas, resources, watchNamespaces, secretNames, rbac)
 * are the toolkit's own schema nodes, so each default is written once.
 */
import Type, { type Static } from 'typebox';
import { bool, int, strict } from './values-fields.ts';
import { OperatorValues, watchNamespaces } from './values-operator.ts';

const operator = OperatorValues.properties;

/** RELEASE_NAMESPACE is where the release bundle installs the operator (Helm uses the release's namespace). */
export const RELEASE_NAMESPACE = 'perfpilot';

/** REDIS_CLIENT_PORTS are the ports a user's Redis listens on: nodes and Sentinels (the operator's egress). */
export const REDIS_CLIENT_PORTS = [6379, 26379] as const;

const labels = (description: string) =>
  Type.Record(Type.String({ minLength: 1, maxLength: 316 }), Type.String({ maxLength: 63 }), {
    description,
    default: {},
  });

/** ReleaseValuesSchema: the Helm chart's values.yaml, and the release bundle's inputs. */
export const ReleaseValuesSchema = Type.Object(
  {
    image: operator.image,
    replicas: operator.replicas,
    resources: operator.resources,
    logLevel: operator.logLevel,
    args: operator.args,
    healthPort: operator.healthPort,
    watchNamespaces: watchNamespaces(['*']),
    secretNames: operator.secretNames,
    crds: Type.Object(
      {
        install: bool('Install the PerformanceProfile CRD with the chart.', true),
        keep: bool(
          'Annotate the CRD helm.sh/resource-policy: keep, so helm uninstall leaves it and every profile in place.',
          true,
        ),
      },
      { ...strict, description: 'The PerformanceProfile CustomResourceDefinition.' },
    ),
    podDisruptionBudget: Type.Object(
      { enabled: bool('Keep one operator replica up through a node drain.', true) },
      { ...strict, description: 'The operator’s PodDisruptionBudget.' },
    ),
    networkPolicy: Type.Object(
      {
        enabled: bool(
          'Limit the operator’s traffic: in, /metrics from the monitoring namespace; out, the API server, Prometheus, DNS and Redis.',
          true,
        ),
        monitoringNamespace: Type.String({
          description: 'Namespace of Prometheus: it may scrape /metrics, and the operator may query it.',
          default: 'monitoring',
          pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
          maxLength: 63,
        }),
        redisPorts: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), {
          description:
            'Ports the operator may reach in any namespace: the Redis nodes and Sentinels of tuned services.',
          default: [...REDIS_CLIENT_PORTS],
        }),
      },
      { ...strict, description: 'The operator’s NetworkPolicy.' },
    ),
    serviceMonitor: Type.Object(
      {
        enabled: bool(
          'Create a ServiceMonitor for the operator (needs the Prometheus Operator’s CRDs).',
          false,
        ),
        intervalSeconds: int('Scrape interval in seconds.', 30, 5, 300),
        labels: labels('Labels Prometheus selects ServiceMonitors by.'),
      },
      { ...strict, description: 'The Prometheus Operator ServiceMonitor of the operator’s /metrics.' },
    ),
    prometheusRule: Type.Object(
      {
        enabled: bool(
          'Create the operator’s alerts as a PrometheusRule (needs the Prometheus Operator’s CRDs).',
          false,
        ),
        labels: labels('Labels Prometheus selects rules by.'),
      },
      { ...strict, description: 'The operator’s alerts.' },
    ),
    metrics: Type.Object(
      {
        secure: bool(
          'Serve /metrics over HTTPS to authenticated, authorized scrapers (the perfpilot-metrics-reader ClusterRole); false serves plain HTTP to anyone who reaches the port (INSECURE_METRICS=true).',
          true,
        ),
        port: operator.metricsPort,
      },
      { ...strict, description: 'The operator’s /metrics endpoint.' },
    ),
    rbac: operator.rbac,
    extraObjects: Type.Array(Type.Object({}, { additionalProperties: true }), {
      description:
        'More Kubernetes objects to install with the chart, as written (Helm templates allowed in Helm).',
      default: [],
    }),
  },
  { additionalProperties: false, description: 'PerfPilot operator release values.' },
);

/** ReleaseValues are the validated release values. */
export type ReleaseValues = Static<typeof ReleaseValuesSchema>;
