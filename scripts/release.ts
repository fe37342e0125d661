/**
 * `npm run release -- --out DIR`: the operator's release, written from the toolkit's constructs.
 *   DIR/crds.yaml                the PerformanceProfile CRD alone
 *   DIR/install.yaml             namespace, CRD, the operator with its RBAC, Service, PDB, NetworkPolicy
 *   DIR/install-monitoring.yaml  the operator's ServiceMonitor and PrometheusRule
 *   DIR/perfpilot-operator/      the Helm chart (helm install perfpilot DIR/perfpilot-operator)
 * With --image, also the image (scripts/build-image.sh --out DIR/image).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { parse } from 'yaml';
import { resolveReleaseValues, ValuesError } from '../charts-ts/src/load-values.ts';
import { CHART_NAME, renderBundle, renderChart } from '../charts-ts/src/release.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** IMAGE_SCRIPT builds the project's image without Docker. */
export const IMAGE_SCRIPT = 'scripts/build-image.sh';

interface ReleaseOptions {
  readonly out: string;
  readonly values?: string;
  readonly image?: boolean;
}

/** runRelease writes the release into options.out; returns the exit code. */
export async function runRelease(
  options: ReleaseOptions,
  log: (line: string) => void = console.log,
): Promise<number> {
  const started = performance.now();
  const out = resolve(options.out);
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  let values: ReturnType<typeof resolveReleaseValues>;
  try {
    const overrides = options.values ? (parse(await readFile(options.values, 'utf8')) ?? {}) : {};
    values = resolveReleaseValues(overrides, options.values ?? 'values');
  } catch (err) {
    if (err instanceof ValuesError) {
      console.error(`release: ${err.message}\nnothing was written.`);
      return 2;
    }
    throw err;
  }
  if (options.image && !existsSync(join(root, IMAGE_SCRIPT))) {
    console.error(
      `release: --image needs ${IMAGE_SCRIPT}, which this checkout does not have yet; nothing was written.`,
    );
    return 1;
  }
  log(`release: PerfPilot ${version} into ${out}, values ${options.values ?? 'defaults'}`);
  const files = [...renderBundle(values, version), ...(await renderChart(values, version))];
  for (const file of files) {
    await mkdir(dirname(join(out, file.path)), { recursive: true });
    await writeFile(join(out, file.path), file.content);
    if (file.objects > 0) log(`  wrote   ${file.path} (${file.objects} objects)`);
  }
  const chartFiles = files.filter((f) => f.path.startsWith(`${CHART_NAME}/`)).length;
  log(`  wrote   ${CHART_NAME}/ (Helm chart, ${chartFiles} files)`);
  if (options.image) {
    log(`release: building the image (bash ${IMAGE_SCRIPT} --out ${join(out, 'image')})`);
    const built = spawnSync('bash', [join(root, IMAGE_SCRIPT), '--out', join(out, 'image')], {
      cwd: root,
      stdio: 'inherit',
    });
    if (built.status !== 0) {
      console.error(
        `release: ${IMAGE_SCRIPT} failed (exit ${built.status ?? built.signal}); the YAML and the chart are written.`,
      );
      return 1;
    }
  }
  log(`release: done in ${Math.round(performance.now() - started)} ms`);
  return 0;
}

/** releaseCommand is the command line of `npm run release`. */
export function releaseCommand(): Command {
  return new Command('release')
    .description(
      'write the operator’s release: crds.yaml, install.yaml, install-monitoring.yaml and the Helm chart',
    )
    .requiredOption('-o, --out <dir>', 'directory to write the release into (created if missing)')
    .option(
      '-f, --values <file>',
      'release values (the Helm chart’s values.yaml shape) overriding the defaults',
    )
    .option('--image', `also build the image (bash ${IMAGE_SCRIPT} --out DIR/image)`)
    .exitOverride()
    .showHelpAfterError()
    .addHelpText(
      'after',
      `\nExamples:\n  npm run release -- --out dist/release\n  kubectl apply --server-side -f dist/release/install.yaml\n  helm install perfpilot dist/release/${CHART_NAME} --namespace perfpilot --create-namespace\n\nExit status: 0 done, 1 failed, 2 invalid values (nothing written).`,
    )
    .action(async (options: ReleaseOptions) => {
      const code = await runRelease(options);
      if (code !== 0) throw new CommanderError(code, 'release', 'release failed');
    });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await releaseCommand().parseAsync(process.argv);
  } catch (err) {
    process.exitCode = err instanceof CommanderError ? err.exitCode : 1;
    if (!(err instanceof CommanderError)) console.error(err);
  }
}
