import { Command, CommanderError, Option } from 'commander';

interface OperatorFlags {
  kubeconfig?: string;
  watchNamespace?: string;
  metricsPort?: string;
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
    .option('--metrics-port <port>', 'port of /healthz, /readyz and /metrics [METRICS_PORT, default 8080]')
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
