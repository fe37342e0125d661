/**
 * The operator process: configuration from flags and environment, clients, logger, start, and a
 * graceful stop on SIGTERM (stop taking work, finish the reconcile in flight, release the lease,
 * exit within 30 s). Wiring only: the behaviour lives in controller/ and runtime/.
 */
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { startOperator } from './controller/operator.ts';
import { DEFAULT_HEALTH_PORT, DEFAULT_METRICS_PORT } from './endpoints.ts';
import { createLogger } from './telemetry/logger.ts';

/** Settings of one operator process; flags override the environment variables named here. */
export interface OperatorConfig {
  /** kubeconfig file; in-cluster or $KUBECONFIG when absent. */
  readonly kubeconfig?: string;
  /** watchNamespaces from WATCH_NAMESPACE (comma-separated; empty or "*" = all namespaces). */
  readonly watchNamespaces: readonly string[];
  /** metricsPort from METRICS_PORT. @default DEFAULT_METRICS_PORT (8080) */
  readonly metricsPort: number;
  /** healthPort from HEALTH_PORT: /healthz and /readyz, plain HTTP. @default DEFAULT_HEALTH_PORT (8081) */
  readonly healthPort: number;
  /** secureMetrics is false when INSECURE_METRICS is "true": /metrics over plain HTTP for anyone. @default true */
  readonly secureMetrics: boolean;
  /** metricsCertDir from METRICS_CERT_DIR: tls.crt and tls.key; a self-signed certificate when unset. */
  readonly metricsCertDir?: string;
  /** leaderElect from LEADER_ELECT ("false" turns it off). @default true */
  readonly leaderElect: boolean;
  /** leaseNamespace from POD_NAMESPACE, else the first watched namespace, else "default". */
  readonly leaseNamespace: string;
  /** identity from POD_NAME, else the host name. */
  readonly identity: string;
  /** logLevel from LOG_LEVEL. @default "info" */
  readonly logLevel: string;
}

/** parseWatchNamespaces reads WATCH_NAMESPACE: "a,b" → [a, b]; "", "*" or unset → all (empty list). */
export function parseWatchNamespaces(value: string | undefined): string[] {
  const names = (value ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  return names.includes('*') ? [] : [...new Set(names)];
}

/** configFromEnvironment reads the settings' environment variables. */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const watchNamespaces = parseWatchNamespaces(env.WATCH_NAMESPACE);
  const metricsPort = parsePort('METRICS_PORT', env.METRICS_PORT, DEFAULT_METRICS_PORT);
  const healthPort = parsePort('HEALTH_PORT', env.HEALTH_PORT, DEFAULT_HEALTH_PORT);
  if (metricsPort !== 0 && metricsPort === healthPort) {
    throw new Error(
      `HEALTH_PORT is ${healthPort}, the same as METRICS_PORT; the two servers need their own ports`,
    );
  }
  if (env.INSECURE_METRICS !== undefined && !['true', 'false', ''].includes(env.INSECURE_METRICS)) {
    throw new Error(`INSECURE_METRICS is "${env.INSECURE_METRICS}"; it must be "true" or "false"`);
  }
  const secureMetrics = env.INSECURE_METRICS !== 'true';
  if (!secureMetrics && env.METRICS_CERT_DIR) {
    throw new Error('METRICS_CERT_DIR is set with INSECURE_METRICS=true; a certificate needs secure metrics');
  }
  return {
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
    watchNamespaces,
    metricsPort,
    healthPort,
    secureMetrics,
    ...(env.METRICS_CERT_DIR ? { metricsCertDir: env.METRICS_CERT_DIR } : {}),
    leaderElect: env.LEADER_ELECT !== 'false',
    leaseNamespace: env.POD_NAMESPACE || watchNamespaces[0] || 'default',
    identity: env.POD_NAME || hostname(),
    logLevel: env.LOG_LEVEL || 'info',
  };
}

/** parsePort reads a port variable: an integer from 0 (any free port) to 65535. */
function parsePort(name: string, value: string | undefined, fallback: number): number {
  const port = Number(value || fallback);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} is "${value}"; it must be a port number from 0 to 65535`);
  }
  return port;
}

/** SHUTDOWN_DEADLINE_MS bounds a graceful stop; Kubernetes' default grace period is 30 s. */
export const SHUTDOWN_DEADLINE_MS = 28_000;

/** runOperatorProcess starts the operator and resolves with the exit code once it has stopped. */
export async function runOperatorProcess(config: OperatorConfig): Promise<number> {
  const logger = createLogger({ level: config.logLevel });
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromDefault();
  logger.info(
    {
      server: kubeConfig.getCurrentCluster()?.server,
      namespaces: config.watchNamespaces.length ? config.watchNamespaces : 'all',
      identity: config.identity,
      leaderElect: config.leaderElect,
    },
    'starting',
  );
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  const operator = await startOperator({
    kubeConfig,
    namespaces: config.watchNamespaces,
    identity: config.identity,
    leaderElection: config.leaderElect ? { namespace: config.leaseNamespace } : false,
    metricsPort: config.metricsPort,
    healthPort: config.healthPort,
    secureMetrics: config.secureMetrics
      ? config.metricsCertDir
        ? { certDir: config.metricsCertDir }
        : {}
      : false,
    logger,
    onLostLeadership: () => {
      // A replica that lost its lease may hold stale decisions, and another replica may lead
      // within seconds. As controller-runtime does, it exits at once: waiting for its in-flight
      // reconciles would let them write after the lease is gone (the soak saw a status written
      // 8 s after the loss, on an API server answering 3 s late). Kubernetes restarts it.
      logger.error('leader election lost: exiting at once, without waiting for in-flight reconciles');
      process.exit(1);
    },
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'stopping');
      resolveStopped();
    });
  }
  await stopped;
  const deadline = setTimeout(() => {
    logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'graceful stop timed out: exiting');
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS);
  deadline.unref();
  await operator.stop();
  clearTimeout(deadline);
  return 0;
}
