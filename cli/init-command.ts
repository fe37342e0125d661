import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';

interface InitFlags {
  deployment: { namespace: string; name: string };
  prometheus?: string;
  out?: string;
  kubeconfig?: string;
}

function deploymentRef(value: string): { namespace: string; name: string } {
  const match = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-.a-z0-9]*)$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected NAMESPACE/NAME, e.g. shop/risk-api');
  return { namespace: match[1] as string, name: match[2] as string };
}

function prometheusUrl(value: string): string {
  if (!/^https?:\/\/\S+$/.test(value)) throw new InvalidArgumentError('expected an http:// or https:// URL');
  return value;
}

/**
 * `perfpilot init`: reads a Deployment and what surrounds it, and drafts an Observe profile whose
 * every field says how it was found or guessed.
 */
export function initCommand(): Command {
  return new Command('init')
    .summary('draft an Observe profile for a Deployment from what the cluster says of it')
    .description(
      'Reads a Deployment, the HPA that scales it (and the KEDA ScaledObject that owns that HPA), the env ' +
        'vars and ConfigMaps of its containers that look like DB pool settings (HikariCP, SQLAlchemy, ' +
        'node-postgres, Go database/sql and Rails names), and the Redis Services of its namespace (port 6379 or ' +
        '"redis" in the name), and writes a draft PerformanceProfile in mode Observe. Every field found or ' +
        'guessed has a comment saying how; what the CRD cannot hold yet (a pool in an env var) is a comment, ' +
        'so the API server accepts the draft as written. It writes nothing to the cluster. Check the draft ' +
        'with perfpilot doctor --profile FILE.',
    )
    .exitOverride()
    .showHelpAfterError()
    .requiredOption('--deployment <namespace/name>', 'the Deployment to tune', deploymentRef)
    .option(
      '--prometheus <url>',
      'the Prometheus that scrapes it (default: a guess, commented)',
      prometheusUrl,
    )
    .option('--out <file>', 'write the draft here (default: standard output)')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  perfpilot init --deployment shop/checkout --out checkout-profile.yaml\n' +
        '  perfpilot init --deployment shop/checkout --prometheus http://prometheus.monitoring.svc:9090',
    )
    .action(async (flags: InitFlags) => {
      // Loaded on use: the Kubernetes client is heavy, and other commands do not need it.
      const [{ KubeConfig }, { readWorkload }, { draftProfile }] = await Promise.all([
        import('@kubernetes/client-node'),
        import('../operator/src/onboard/read-workload.ts'),
        import('../operator/src/onboard/draft-profile.ts'),
      ]);
      const kubeConfig = new KubeConfig();
      if (flags.kubeconfig) kubeConfig.loadFromFile(flags.kubeconfig);
      else kubeConfig.loadFromDefault();
      const findings = await readWorkload(kubeConfig, flags.deployment.namespace, flags.deployment.name);
      const draft = draftProfile(
        findings,
        flags.prometheus ? { prometheusUrl: flags.prometheus } : {},
        new Date(),
      );
      if (flags.out) {
        await writeFile(flags.out, draft);
        console.error(`wrote ${flags.out}: check it, then run perfpilot doctor --profile ${flags.out}`);
      } else process.stdout.write(draft);
    });
}
