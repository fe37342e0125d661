import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Construct } from 'constructs';
import { kubeObject } from './kube-object.ts';
import { appLabels } from './labels.ts';

/** Props of ServiceMonitor. */
export interface ServiceMonitorProps {
  /** namespace of the ServiceMonitor and of the Service it selects. */
  readonly namespace: string;
  /** name of the ServiceMonitor. */
  readonly name: string;
  /** selector matches the labels of the Service to scrape. */
  readonly selector: Record<string, string>;
  /** port is the Service port's name. */
  readonly port: string;
  /**
   * path of the metrics endpoint.
   * @default '/metrics'
   */
  readonly path?: string;
  /** intervalSeconds between scrapes (5-300). */
  readonly intervalSeconds: number;
  /**
   * labels Prometheus selects ServiceMonitors by.
   * @default {}
   */
  readonly labels?: Record<string, string>;
  /**
   * secure scrapes over HTTPS with the scraper's own ServiceAccount token, for a server that
   * reviews tokens (the operator's /metrics); the scraper's ServiceAccount needs the
   * `perfpilot-metrics-reader` ClusterRole.
   * @default undefined (plain HTTP, no token)
   */
  readonly secure?: SecureScrape;
}

/** SecureScrape: how a ServiceMonitor trusts the server's certificate. */
export interface SecureScrape {
  /**
   * caSecret is a Secret in the ServiceMonitor's namespace whose `ca.crt` signed the server's
   * certificate (cert-manager's layout).
   * @default undefined (verification skipped: the server's certificate is self-signed)
   */
  readonly caSecret?: string;
  /** serverName is the name the certificate holds, checked with caSecret. @default the Service's DNS name is not assumed */
  readonly serverName?: string;
}

/** SERVICE_ACCOUNT_TOKEN_FILE is where a pod's ServiceAccount token is mounted (Prometheus reads its own). */
export const SERVICE_ACCOUNT_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** ServiceMonitor is a Prometheus Operator `monitoring.coreos.com/v1` ServiceMonitor for one Service. */
export class ServiceMonitor extends Construct {
  constructor(scope: Construct, id: string, props: ServiceMonitorProps) {
    super(scope, id);
    if (props.intervalSeconds < 5 || props.intervalSeconds > 300) {
      throw new Error(`ServiceMonitor: intervalSeconds must be from 5 to 300, got ${props.intervalSeconds}`);
    }
    if (Object.keys(props.selector).length === 0) {
      throw new Error(
        'ServiceMonitor: selector must have at least one label, got {} (it would scrape every Service)',
      );
    }
    kubeObject<IServiceMonitor>(this, 'Resource', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: { ...appLabels(props.name, 'monitoring'), ...props.labels },
      },
      spec: {
        selector: { matchLabels: props.selector },
        namespaceSelector: { matchNames: [props.namespace] },
        endpoints: [
          {
            port: props.port,
            path: props.path ?? '/metrics',
            interval: `${props.intervalSeconds}s`,
            ...(props.secure ? secureEndpoint(props.secure) : {}),
          },
        ],
      },
    });
  }
}

/** secureEndpoint: HTTPS, the scraper's token, and the CA to verify with (or none, for a self-signed certificate). */
function secureEndpoint(secure: SecureScrape) {
  return {
    scheme: 'https' as const,
    bearerTokenFile: SERVICE_ACCOUNT_TOKEN_FILE,
    tlsConfig: secure.caSecret
      ? {
          ca: { secret: { name: secure.caSecret, key: 'ca.crt' } },
          ...(secure.serverName ? { serverName: secure.serverName } : {}),
        }
      : // A certificate generated at start has no CA to check it with; the connection is still encrypted.
        { insecureSkipVerify: true },
  };
}
