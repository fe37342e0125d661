/**
 * A real metrics API for the test cluster's HPA controller: prometheus-adapter (built from its Go
 * module) serving the external (or custom) metrics API from a real Prometheus, registered with
 * the API server's aggregation layer through APIServices whose Service is an ExternalName of
 * 127.0.0.1, as kwokctl registers its components.
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
  writeFileSync(configPath, stringify(prometheusAdapterConfig(shape, options.rateWindowSeconds ?? 10)));
  const adapterGroups = [groupOf[shape]];
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
