/**
 * The `perfpilot synth` command's work: load and validate values, render, then write or check.
 * cli/synth-command.ts imports this lazily, so other perfpilot commands do not load cdk8s.
 */
import { resolve } from 'node:path';
import { loadValuesFile, ValuesError, valuesNotes } from './load-values.ts';
import { diffAgainstDisk, renderStack, writeRendered } from './synth.ts';
import { valuesYaml } from './values-yaml.ts';

/** Options of `perfpilot synth`. */
export interface SynthOptions {
  readonly values?: string;
  readonly out: string;
  readonly check?: boolean;
  readonly printValues?: boolean;
}

/** runSynth renders the stack and writes it, or checks it; returns the exit code. */
export async function runSynth(
  options: SynthOptions,
  log: (line: string) => void = console.log,
): Promise<number> {
  const started = performance.now();
  const root = resolve(options.out);
  let values: Awaited<ReturnType<typeof loadValuesFile>>;
  try {
    values = await loadValuesFile(options.values);
  } catch (err) {
    if (err instanceof ValuesError) {
      console.error(`perfpilot synth: ${err.message}\nnothing was written.`);
      return 2;
    }
    throw err;
  }
  if (options.printValues) {
    process.stdout.write(valuesYaml(values));
    return 0;
  }
  log(
    `synth: values ${options.values ? `from ${options.values}` : 'defaults'}, namespace ${values.namespace}`,
  );
  for (const note of valuesNotes(values)) log(`note: ${note}`);
  const rendered = renderStack(values);
  if (options.check) {
    const drift = await diffAgainstDisk(root, rendered);
    if (drift.length > 0) {
      console.error(
        `perfpilot synth --check: ${drift.length} file(s) differ from the synth output in ${root}:`,
      );
      for (const d of drift)
        console.error(`  ${d.kind.padEnd(7)} ${d.path}${d.detail ? `\n      ${d.detail}` : ''}`);
      console.error('run `npm run synth` and commit the result.');
      return 1;
    }
    log(`synth --check: ${rendered.length} files up to date (${elapsed(started)})`);
    return 0;
  }
  const removed = await writeRendered(root, rendered);
  for (const file of rendered) {
    log(
      `  wrote   ${file.path}${file.objects > 0 ? ` (${file.objects} object${file.objects === 1 ? '' : 's'})` : ''}`,
    );
  }
  for (const path of removed) log(`  removed ${path} (no longer produced)`);
  const objects = rendered.reduce((n, f) => n + f.objects, 0);
  log(`synth: ${rendered.length} files, ${objects} objects in ${root} (${elapsed(started)})`);
  return 0;
}

function elapsed(since: number): string {
  return `${Math.round(performance.now() - since)} ms`;
}
