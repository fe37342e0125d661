import { enableCompileCache } from 'node:module';
import { Command, CommanderError } from 'commander';

/** synthCommand is `perfpilot synth`; the work lives in charts-ts/src/synth-run.ts. */
export function synthCommand(): Command {
  return new Command('synth')
    .description(
      'synthesize the stack (Redis Cluster, risk API, HPA, operator, monitoring) into crds/ and manifests/',
    )
    .option('-f, --values <file>', 'YAML values file overriding the seed defaults')
    .option('-o, --out <dir>', 'directory to write crds/ and manifests/ into', '.')
    .option('--check', 'write nothing; exit 1 and list the files that differ from the synth output')
    .option(
      '--print-values',
      'write nothing; print the effective values as commented YAML (a start for a values file)',
    )
    .exitOverride()
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nExamples:\n  npm run synth\n  npx perfpilot synth --values prod.yaml --out deploy/\n  npx perfpilot synth --check   # in CI: fail when the committed manifests are stale\n  npx perfpilot synth --print-values > my-values.yaml\n\nExit status: 0 done, 1 --check found stale files, 2 invalid values (nothing written).',
    )
    .action(async (options: { values?: string; out: string; check?: boolean; printValues?: boolean }) => {
      // Node's on-disk compile cache keeps compiled and type-stripped modules between runs; synth
      // loads cdk8s, TypeBox, yaml and its own sources after this line, so they all benefit.
      enableCompileCache();
      const { runSynth } = await import('../charts-ts/src/synth-run.ts');
      const code = await runSynth(options);
      // main() turns a CommanderError into the exit code; the reasons are printed already.
      if (code !== 0) throw new CommanderError(code, 'perfpilot.synth', 'synth failed');
    });
}
