/**
 * The operator process's endpoints, read by the process (its flags' defaults) and by the
 * toolkit's Deployment, Service, NetworkPolicy and ServiceMonitor, so both sides agree.
 */

/** DEFAULT_METRICS_PORT serves /metrics: HTTPS to authorized callers unless told otherwise. */
export const DEFAULT_METRICS_PORT = 8080;

/** DEFAULT_HEALTH_PORT serves /healthz and /readyz over plain HTTP (kubebuilder's probe port). */
export const DEFAULT_HEALTH_PORT = 8081;

/** METRICS_PATH is the one path of the metrics server, and the non-resource URL scrapers need `get` on. */
export const METRICS_PATH = '/metrics';

/** METRICS_CERT_MOUNT is where the Deployment mounts a certificate Secret for /metrics (METRICS_CERT_DIR). */
export const METRICS_CERT_MOUNT = '/etc/perfpilot/metrics-certs';
