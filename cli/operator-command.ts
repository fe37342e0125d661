import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_HEALTH_PORT, DEFAULT_METRICS_PORT } from '../operator/src/endpoints.ts';

interface OperatorFlags {
  kubeconfig?: string;
  watchNamespace?: string;
  metricsPort?: string;
  healthPort?: string;
  metricsCertDir?: string;
  insecureMetrics?: boolean;
  leaderElect: boolean;
  leaseNamespace?: string;
  identity?: string;
  logLevel?: string;
}

/** operatorCommand is `perfpilot operator`: runs the controller against the current kubeconfig. */
export function operatorCommand(): Command {
  return new Command('operator')
    .description(
      'Run the PerformanceProfile operator against the current kubeconfig (or\n' +
        'in-cluster config). Flags override the environment variables named in brackets.',
    )
    .option('--kubeconfig <file>', 'kubeconfig to use [KUBECONFIG]; in-cluster config when unset')
    .option(
      '--watch-namespace <names>',
      'comma-separated namespaces to watch; "*" or empty = all [WATCH_NAMESPACE]',
    )
    .option(
      '--metrics-port <port>',
      `port of /metrics: HTTPS, callers need a token allowed "get /metrics" [METRICS_PORT, default ${DEFAULT_METRICS_PORT}]`,
    )
    .option(
      '--health-port <port>',
      `port of /healthz and /readyz, plain HTTP [HEALTH_PORT, default ${DEFAULT_HEALTH_PORT}]`,
    )
    .option(
      '--metrics-cert-dir <dir>',
      'tls.crt and tls.key of /metrics (a cert-manager Secret mounted), reloaded on change;\n' +
        'a self-signed certificate is generated at start when unset [METRICS_CERT_DIR]',
    )
    .option(
      '--insecure-metrics',
      'serve /metrics over plain HTTP to anyone, without authentication [INSECURE_METRICS=true]',
    )
    .option('--no-leader-elect', 'act without a Lease (only safe with one replica) [LEADER_ELECT=false]')
    .option('--lease-namespace <name>', 'namespace of the leader-election Lease [POD_NAMESPACE]')
    .option(
      '--identity <name>',
      'this replica’s name in the Lease and in Events [POD_NAME, default host name]',
    )
    .addOption(
      new Option('--log-level <level>', 'lowest log level written [LOG_LEVEL, default info]').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'fatal',
        'silent',
      ]),
    )
    .action(async (flags: OperatorFlags) => {
      const env = { ...process.env };
      if (flags.kubeconfig) env.KUBECONFIG = flags.kubeconfig;
      if (flags.watchNamespace !== undefined) env.WATCH_NAMESPACE = flags.watchNamespace;
      if (flags.metricsPort !== undefined) env.METRICS_PORT = flags.metricsPort;
      if (flags.healthPort !== undefined) env.HEALTH_PORT = flags.healthPort;
      if (flags.metricsCertDir !== undefined) env.METRICS_CERT_DIR = flags.metricsCertDir;
      if (flags.insecureMetrics) env.INSECURE_METRICS = 'true';
      if (!flags.leaderElect) env.LEADER_ELECT = 'false';
      if (flags.leaseNamespace) env.POD_NAMESPACE = flags.leaseNamespace;
      if (flags.identity) env.POD_NAME = flags.identity;
      if (flags.logLevel) env.LOG_LEVEL = flags.logLevel;
      // Loaded on use: the Kubernetes client is heavy, and other commands do not need it.
      const { configFromEnvironment, runOperatorProcess } = await import('../operator/src/main.ts');
      const code = await runOperatorProcess(configFromEnvironment(env));
      if (code !== 0) throw new CommanderError(code, 'perfpilot.operator', 'operator stopped');
    });
}
