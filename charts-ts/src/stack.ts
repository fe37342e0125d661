/**
 * The whole stack as cdk8s charts, one chart per output file: the CRD in crds/, every component
 * in manifests/. Values come in validated (see load-values.ts); this file only wires them to the
 * constructs.
 */
import { App, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import {
  DEFAULT_POLICY,
  DEFAULT_PROMETHEUS_TIMEOUT_SECONDS,
  DEFAULT_STALENESS_SECONDS,
} from '../../operator/src/api/v1alpha1/defaults.ts';
import { GrafanaDashboard } from './grafana-dashboard.ts';
import { StackNamespace } from './namespace.ts';
import { OPERATOR_NAME, Operator } from './operator.ts';
import { OperatorMonitoring } from './operator-monitoring.ts';
import { PerformanceProfile } from './performance-profile.ts';
import { PerformanceProfileCrd } from './performance-profile-crd.ts';
import { StackAlerts } from './prometheus-rule.ts';
import { REDIS_PORT, RedisCluster } from './redis-cluster.ts';
import { RedisClusterBootstrapJob } from './redis-cluster-bootstrap-job.ts';
import { RiskApi } from './risk-api.ts';
import { RiskApiAutoscaler } from './risk-api-autoscaler.ts';
import { ServiceMonitor } from './service-monitor.ts';
import type { Values } from './values.ts';

/** MONITORING_DIR holds the Prometheus Operator objects (ServiceMonitor, PrometheusRule), a kustomization of their own. */
export const MONITORING_DIR = 'manifests/monitoring';

/** One output file: its path relative to the output directory and the chart that fills it. */
export interface StackFile {
  readonly path: string;
  readonly chart: Chart;
}

/** buildStack creates every chart of the stack under `app` (a fresh cdk8s App by default). */
export function buildStack(values: Values, app: App = new App()): { app: App; files: StackFile[] } {
  const files: StackFile[] = [];
  /** chart starts the chart that becomes the file at `path`. */
  const chart = (path: string): Construct => {
    const c = new Chart(app, path.replaceAll('/', '-').replace(/\.yaml$/, ''), {
      disableResourceNameHashes: true,
    });
    files.push({ path, chart: c });
    return c;
  };
  const ns = values.namespace;
  const monitoringNs = values.monitoring.prometheusNamespace;
  const operatorName = OPERATOR_NAME;
  const operatorPods = { 'app.kubernetes.io/name': operatorName };
  const apiPods = { 'app.kubernetes.io/name': values.api.name };

  new PerformanceProfileCrd(chart('crds/performanceprofiles.perfpilot.dev.yaml'), 'PerformanceProfile');
  new StackNamespace(chart('manifests/namespace.yaml'), 'Namespace', { name: ns });

  const redisChart = chart('manifests/redis-cluster.yaml');
  const redis = new RedisCluster(redisChart, 'RedisCluster', {
    namespace: ns,
    config: values.redis,
    clusterDomain: values.clusterDomain,
    clientSelectors: [apiPods, operatorPods],
    monitoringNamespace: monitoringNs,
  });
  new RedisClusterBootstrapJob(redisChart, 'Bootstrap', {
    namespace: ns,
    clusterName: redis.name,
    headlessServiceName: redis.headlessServiceName,
    clusterDomain: values.clusterDomain,
    nodes: redis.nodes,
    replicasPerMaster: values.redis.replicasPerMaster,
    image: values.redis.image,
    passwordSecret: values.redis.passwordSecret,
  });

  const riskApi = new RiskApi(chart('manifests/risk-api.yaml'), 'RiskApi', {
    namespace: ns,
    config: values.api,
    redisHost: `${redis.serviceName}.${ns}.svc.${values.clusterDomain}`,
    redisPort: REDIS_PORT,
    redisPasswordSecret: values.redis.passwordSecret,
    databasePort: values.api.databasePort,
    monitoringNamespace: monitoringNs,
  });

  new RiskApiAutoscaler(chart('manifests/risk-api-hpa.yaml'), 'Autoscaler', {
    namespace: ns,
    deploymentName: riskApi.name,
    minReplicas: values.hpa.minReplicas,
    maxReplicas: values.hpa.maxReplicas,
    cpuUtilizationPercent: values.hpa.cpuMetric ? values.hpa.cpuUtilizationPercent : undefined,
    requestRateMetric: values.hpa.requestRateMetric,
    requestsPerSecondPerPod: values.hpa.requestsPerSecondPerPod,
    scaleUpStabilizationSeconds: values.hpa.scaleUpStabilizationSeconds,
    scaleDownStabilizationSeconds: values.hpa.scaleDownStabilizationSeconds,
  });

  const operator = new Operator(chart('manifests/operator.yaml'), 'Operator', {
    namespace: ns,
    name: operatorName,
    config: values.operator,
    secretNames: [values.redis.passwordSecret.name],
    monitoringNamespace: monitoringNs,
  });

  const p = values.operator.profile;
  if (p.enabled) {
    new PerformanceProfile(chart('manifests/performance-profile.yaml'), 'Profile', {
      namespace: ns,
      name: riskApi.name,
      spec: {
        targetRef: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: riskApi.name,
          hpaName: riskApi.name,
          configMapName: riskApi.tuningConfigMapName,
        },
        mode: p.mode,
        slo: {
          p95LatencyMs: values.slo.p95LatencyMs,
          errorRatePercent: values.slo.errorRatePercent,
          cacheHitRatePercent: values.slo.cacheHitRatePercent,
          poolUsagePercent: values.slo.poolUsagePercent,
          requestsPerReplica: values.hpa.requestsPerSecondPerPod,
        },
        metrics: {
          ...(values.monitoring.enabled
            ? {
                prometheus: {
                  url: values.monitoring.prometheusUrl,
                  stalenessSeconds: DEFAULT_STALENESS_SECONDS,
                  timeoutSeconds: DEFAULT_PROMETHEUS_TIMEOUT_SECONDS,
                },
              }
            : {}),
          redis: {
            endpoints: redis.nodeAddresses(ns, values.clusterDomain),
            passwordSecretRef: {
              name: values.redis.passwordSecret.name,
              key: values.redis.passwordSecret.key,
            },
            configMapName: redis.configMapName,
          },
        },
        knobs: {
          poolSize: { min: p.poolSizeMin, max: p.poolSizeMax },
          maxOverflow: { min: p.maxOverflowMin, max: p.maxOverflowMax },
          redisMaxmemory: {
            minMiB: p.redisMaxmemoryMinMiB,
            maxMiB: p.redisMaxmemoryMaxMiB,
            containerMemoryLimitMiB: values.redis.resources.memoryLimitMiB,
          },
          replicas: { floor: p.replicaFloor, ceiling: p.replicaCeiling },
        },
        database: {
          maxConnections: values.database.maxConnections,
          reservedConnections: values.database.reservedConnections,
        },
        policy: {
          ...DEFAULT_POLICY,
          evaluationIntervalSeconds: p.evaluationIntervalSeconds,
          cooldownSeconds: p.cooldownSeconds,
          verificationWindowSeconds: p.verificationWindowSeconds,
        },
      },
    });
  }

  if (values.monitoring.enabled) {
    // The Grafana dashboard is a plain ConfigMap and goes with the stack; the Prometheus Operator
    // objects get their own kustomization, so `kubectl apply -k manifests/` works without its CRDs.
    new GrafanaDashboard(chart('manifests/grafana-dashboard.yaml'), 'Dashboard', {
      namespace: ns,
      apiName: riskApi.name,
      slo: values.slo,
    });
    const s = chart(`${MONITORING_DIR}/monitoring.yaml`);
    const labels = values.monitoring.ruleLabels;
    const interval = values.monitoring.scrapeIntervalSeconds;
    new ServiceMonitor(s, 'ApiMonitor', {
      namespace: ns,
      name: riskApi.name,
      selector: { 'app.kubernetes.io/name': riskApi.name, 'app.kubernetes.io/component': 'api' },
      port: 'http',
      path: values.api.metricsPath,
      intervalSeconds: interval,
      labels,
    });
    new ServiceMonitor(s, 'RedisMonitor', {
      namespace: ns,
      name: redis.name,
      selector: { 'app.kubernetes.io/name': redis.name, 'app.kubernetes.io/component': 'metrics' },
      port: 'metrics',
      intervalSeconds: interval,
      labels,
    });
    new OperatorMonitoring(s, 'OperatorMonitoring', {
      namespace: ns,
      operatorName,
      intervalSeconds: interval,
      serviceMonitorLabels: labels,
      ruleLabels: labels,
      ...(values.operator.metricsSecure
        ? {
            secure: values.operator.metricsCertSecret
              ? {
                  caSecret: values.operator.metricsCertSecret,
                  serverName: `${operator.metricsServiceName}.${ns}.svc`,
                }
              : {},
          }
        : {}),
    });
    new StackAlerts(s, 'Alerts', {
      namespace: ns,
      apiName: riskApi.name,
      apiContainer: 'api',
      thresholds: values.alerts,
      slo: values.slo,
      redisMasters: values.redis.masters,
      poolCapacity: values.api.pool.size + values.api.pool.maxOverflow,
      labels,
    });
  }
  return { app, files };
}
