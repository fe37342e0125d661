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

let helmCached: Promise<string> | undefined;

/** helmBinary builds helm v4 from its module when it is not cached yet (test/tools/helm/build.sh; minutes, once). */
export function helmBinary(): Promise<string> {
  helmCached ??= (async () => {
    const script = fileURLToPath(new URL('./helm/build.sh', import.meta.url));
    const { stdout } = await run('bash', [script], { maxBuffer: 16 * 1024 * 1024 });
    return join(stdout.trim().split('\n').at(-1) ?? '', 'helm');
  })();
  return helmCached;
}
