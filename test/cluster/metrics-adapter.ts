/**
 * A real metrics API for the test cluster's HPA controller: prometheus-adapter (built from its Go
 * module) serving the external (or custom) metrics API from a real Prometheus, and on request the
 * resource metrics API (the pods' CPU and memory, from cAdvisor's series), registered with the API
 * server's aggregation layer through APIServices whose Service is an ExternalName of 127.0.0.1, as
 * kwokctl registers its components.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiregistrationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import {
  prometheusAdapterConfig,
  type RequestRateMetricType,
} from '../../charts-ts/src/request-rate-metric.ts';
import type { ControlPlaneBinaries } from './binaries.ts';
import { CPU_USAGE_SERIES, MEMORY_WORKING_SET_SERIES } from './exporter.ts';
import { freePort, type ManagedProcess, type RunDirectory, waitFor } from './processes.ts';

/** Options of a control plane's startMetricsAdapter. */
export interface MetricsAdapterOptions {
  /** prometheusUrl is the Prometheus the adapter queries, e.g. http://127.0.0.1:9090. */
  readonly prometheusUrl: string;
  /**
   * requestRateMetric is the shape `requests_per_second` is served in (see request-rate-metric.ts).
   * @default 'External'
   */
  readonly requestRateMetric?: RequestRateMetricType;
  /**
   * rateWindowSeconds is the rate() window of the adapter's query; short in tests so the HPA
   * follows a changed rate within seconds.
   * @default 10
   */
  readonly rateWindowSeconds?: number;
  /**
   * resourceMetrics also serves the resource metrics API (`metrics.k8s.io`, what an HPA's Resource
   * metrics read) from cAdvisor's series per pod and container, rated over `windowSeconds`; kwok's
   * pods run nothing, so a test serves those series (exporter.ts, drivePodCpu).
   * @default undefined: not served
   */
  readonly resourceMetrics?: { readonly windowSeconds: number };
  /** relistIntervalSeconds is how often the adapter rediscovers series. @default 2 */
  readonly relistIntervalSeconds?: number;
  /** timeoutMs bounds how long the adapter may take to become available. @default 60000 */
  readonly timeoutMs?: number;
}

/** A running, registered metrics adapter. */
export interface MetricsAdapter {
  readonly url: string;
  readonly process: ManagedProcess;
}

/** The metrics API group each shape is served from (the adapter serves a group only when it has rules for it). */
const groupOf: Record<RequestRateMetricType, string> = {
  Pods: 'custom.metrics.k8s.io',
  External: 'external.metrics.k8s.io',
};
/** The group of the resource metrics API. */
const RESOURCE_METRICS_GROUP = 'metrics.k8s.io';

/**
 * resourceRules is prometheus-adapter's `resourceRules`: CPU from cAdvisor's counter and memory
 * from its working set (the adapter serves a pod only when it has both), per pod and container.
 */
export function resourceRules(windowSeconds: number) {
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1) {
    throw new RangeError(`resourceMetrics.windowSeconds must be a positive integer, got ${windowSeconds}`);
  }
  const resources = {
    overrides: { namespace: { resource: 'namespace' }, pod: { resource: 'pod' }, node: { resource: 'node' } },
  };
  const rule = (series: string, rated: boolean) => {
    const select = (matchers: string) =>
      rated ? `rate(${series}{${matchers}}[${windowSeconds}s])` : `${series}{${matchers}}`;
    return {
      containerQuery: `sum(${select('<<.LabelMatchers>>,container!=""')}) by (<<.GroupBy>>)`,
      nodeQuery: `sum(${select('<<.LabelMatchers>>,id="/"')}) by (<<.GroupBy>>)`,
      resources,
      containerLabel: 'container',
    };
  };
  return {
    cpu: rule(CPU_USAGE_SERIES, true),
    memory: rule(MEMORY_WORKING_SET_SERIES, false),
    window: `${windowSeconds}s`,
  };
}

/** The Service the APIServices name; the aggregator verifies the adapter's certificate for it. */
export const metricsAdapterService = { name: 'perfpilot-metrics-adapter', namespace: 'kube-system' } as const;
const { name: serviceName, namespace: serviceNamespace } = metricsAdapterService;

/** startMetricsAdapter starts prometheus-adapter and waits until the API server serves its groups. */
export async function startMetricsAdapter(params: {
  readonly dir: RunDirectory;
  readonly bin: ControlPlaneBinaries;
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  readonly caCert: string;
  readonly servingCertPath: string;
  readonly servingKeyPath: string;
  readonly options: MetricsAdapterOptions;
}): Promise<MetricsAdapter> {
  const { dir, bin, kubeconfigPath, kubeConfig, options } = params;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const configPath = join(dir.path, 'prometheus-adapter.yaml');
  const shape = options.requestRateMetric ?? 'External';
  const resource = options.resourceMetrics;
  writeFileSync(
    configPath,
    stringify({
      ...prometheusAdapterConfig(shape, options.rateWindowSeconds ?? 10),
      ...(resource ? { resourceRules: resourceRules(resource.windowSeconds) } : {}),
    }),
  );
  const adapterGroups = [groupOf[shape], ...(resource ? [RESOURCE_METRICS_GROUP] : [])];
  const port = await freePort();
  const adapter = dir.start('prometheus-adapter', bin.prometheusAdapter, [
    `--lister-kubeconfig=${kubeconfigPath}`,
    `--authentication-kubeconfig=${kubeconfigPath}`,
    `--authorization-kubeconfig=${kubeconfigPath}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${params.servingCertPath}`,
    `--tls-private-key-file=${params.servingKeyPath}`,
    `--prometheus-url=${options.prometheusUrl}`,
    `--metrics-relist-interval=${options.relistIntervalSeconds ?? 2}s`,
    `--config=${configPath}`,
    '--v=1',
  ]);

  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespacedService({
    namespace: serviceNamespace,
    body: {
      metadata: { name: serviceName },
      // The aggregator resolves an ExternalName Service to its name: loopback, never a cluster IP.
      spec: { type: 'ExternalName', externalName: '127.0.0.1', ports: [{ port, protocol: 'TCP' }] },
    },
  });
  const registration = kubeConfig.makeApiClient(ApiregistrationV1Api);
  for (const group of adapterGroups) {
    await registration.createAPIService({
      body: {
        metadata: { name: `v1beta1.${group}` },
        spec: {
          group,
          version: 'v1beta1',
          service: { namespace: serviceNamespace, name: serviceName, port },
          caBundle: Buffer.from(params.caCert).toString('base64'),
          groupPriorityMinimum: 100,
          versionPriority: 100,
        },
      },
    });
  }
  for (const group of adapterGroups) {
    await waitFor(
      `APIService v1beta1.${group} Available`,
      async () => {
        const service = await registration.readAPIService({ name: `v1beta1.${group}` });
        const available = service.status?.conditions?.find((c) => c.type === 'Available');
        if (available?.status === 'True') return true;
        // The aggregator's reason becomes the timeout's "last error".
        throw new Error(`${available?.reason ?? 'no status yet'}: ${available?.message ?? ''}`);
      },
      { timeoutMs, intervalMs: 250, process: adapter },
    );
  }
  return { url: `https://127.0.0.1:${port}`, process: adapter };
}
