/**
 * Where the Go-built manifest checkers are: test/tools/build.sh builds them once per version into
 * a cache outside the repository and prints that directory.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Paths of the manifest checkers built from their Go modules (test/tools/go.mod). */
export interface ManifestCheckers {
  readonly dir: string;
  readonly kubeScore: string;
}

let cached: Promise<ManifestCheckers> | undefined;

/** manifestCheckers builds the checkers when they are not cached yet (a minute or two, once). */
export function manifestCheckers(): Promise<ManifestCheckers> {
  cached ??= (async () => {
    const script = fileURLToPath(new URL('./build.sh', import.meta.url));
    const { stdout } = await run('bash', [script], { maxBuffer: 16 * 1024 * 1024 });
    const dir = stdout.trim().split('\n').at(-1) ?? '';
    return { dir, kubeScore: join(dir, 'kube-score') };
  })();
  return cached;
}
