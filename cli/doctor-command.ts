import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { OPERATOR_SERVICE_ACCOUNT } from '../operator/src/onboard/required-access.ts';

interface DoctorFlags {
  profile?: string;
  json?: boolean;
  kubeconfig?: string;
  /** as is a user name, or false with --no-as. */
  as: string | false;
}

function namespacedName(value: string): { namespace: string; name: string } {
  const match = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-.a-z0-9]*)$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected NAMESPACE/NAME, e.g. shop/risk-api');
  return { namespace: match[1] as string, name: match[2] as string };
}

/**
 * `perfpilot doctor`: checks that a profile can work (its metrics, its Redis, the operator's
 * access, who owns what it writes) and prints one verdict per check; it writes nothing.
 */
export function doctorCommand(): Command {
  return new Command('doctor')
    .summary('check that a profile can work: metrics, Redis, access, field owners; writes nothing')
    .description(
      'Checks a PerformanceProfile, from a file or from the cluster, and prints one table with a verdict ' +
        '(ok, warn, fail) per check: the target objects exist; each signal’s query returns exactly one fresh ' +
        'series (with the query and what came back); every Redis node is reachable, authenticated, answers ' +
        'CONFIG GET and permits CONFIG SET (by ACL DRYRUN, never by a SET); the operator may do every read and ' +
        'write this profile needs (SelfSubjectAccessReview, impersonating its ServiceAccount); and no KEDA ' +
        'ScaledObject or other field manager owns what perfpilot writes, with the commands that hand those ' +
        'fields over. Every line that is not ok says how to fix it. It writes nothing: Secrets, the target and ' +
        'the profile are only read, as the current kubeconfig user. Exit status 1 when any check fails.',
    )
    .exitOverride()
    .showHelpAfterError()
    .argument('[namespace/name]', 'a profile in the cluster', namespacedName)
    .option('--profile <file>', 'a PerformanceProfile YAML file instead (its namespace, else default)')
    .option('--json', 'print the checks as JSON')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)')
    .option(
      '--as <user>',
      'whose access to check, impersonated (you need impersonate permission)',
      OPERATOR_SERVICE_ACCOUNT,
    )
    .option('--no-as', 'check your own access instead of impersonating anyone')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  perfpilot doctor shop/risk-api\n' +
        '  perfpilot doctor --profile risk-api-profile.yaml --json\n' +
        '  perfpilot doctor shop/risk-api --as system:serviceaccount:ops:perfpilot-operator',
    )
    .action(async (target: { namespace: string; name: string } | undefined, flags: DoctorFlags) => {
      if ((target === undefined) === (flags.profile === undefined)) {
        throw new Error('name one profile: NAMESPACE/NAME or --profile FILE');
      }
      // Loaded on use: the Kubernetes client and the toolkit's Role are heavy, and other commands do not need them.
      const [{ KubeConfig, CustomObjectsApi }, { operatorRules }, doctor, report, api, recommend] =
        await Promise.all([
          import('@kubernetes/client-node'),
          import('../charts-ts/src/operator-rbac.ts'),
          import('../operator/src/onboard/doctor.ts'),
          import('../operator/src/onboard/doctor-report.ts'),
          import('../operator/src/api/v1alpha1/index.ts'),
          import('./recommend-command.ts'),
        ]);
      const kubeConfig = new KubeConfig();
      if (flags.kubeconfig) kubeConfig.loadFromFile(flags.kubeconfig);
      else kubeConfig.loadFromDefault();
      let profile: import('../operator/src/api/v1alpha1/index.ts').PerformanceProfile;
      if (flags.profile) {
        profile = await recommend.loadProfile(resolve(flags.profile));
      } else if (target) {
        try {
          profile = (await kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
            group: api.GROUP,
            version: api.VERSION,
            plural: api.PLURAL,
            ...target,
          })) as typeof profile;
        } catch (err) {
          throw new Error(
            `cannot read PerformanceProfile ${target.namespace}/${target.name}: ${doctor.errorText(err)}`,
          );
        }
      } else return;
      const lines = await doctor.runDoctor(
        { kubeConfig, operatorRules, ...(flags.as ? { as: flags.as } : {}) },
        profile,
      );
      const name = `${profile.metadata.namespace ?? 'default'}/${profile.metadata.name ?? profile.spec.targetRef.name}`;
      console.log(
        flags.json
          ? report.doctorJson(name, lines)
          : report.formatDoctorTable(`perfpilot doctor ${name}`, lines),
      );
      if (report.doctorFailed(lines)) throw new CommanderError(1, 'perfpilot.doctor', 'a check failed');
    });
}
