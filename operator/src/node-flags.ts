/**
 * V8 heap settings for the operator process. Node sizes its young generation for the machine
 * (up to 64 MiB per semi-space on a large host), which suits a throughput server but makes a
 * controller's RSS mostly garbage that a scavenge has not reclaimed yet: with 200 profiles
 * (`v8.getHeapSpaceStatistics()` in the operator process), the new space alone held 128 MiB of a
 * 300 MiB RSS while a heap snapshot held under 40 MiB.
 * A small young generation scavenges more often, each scavenge cheap because a reconcile's objects
 * die young; the old-space cap keeps the heap inside the Deployment's memory limit
 * (charts-ts, `operator.resources`, 256 MiB by default) with room for code and native memory.
 */

/**
 * OPERATOR_BUNDLE is the operator's bundle (rolldown.config.ts, `npm run bundle`), relative to the
 * project root and to the image's working directory: the operator container runs `node` on it.
 */
export const OPERATOR_BUNDLE = 'dist/operator.js';

/**
 * OPERATOR_NODE_FLAGS are the V8 flags the operator runs with, in the container and from the CLI.
 * 4 MiB semi-spaces rather than 8: 124 MiB RSS instead of 131–137 MiB with 1,000 profiles reconciled
 * (the bundle, two malloc arenas), in the same time to reconcile them (8.8 s against 8.2–10.5 s).
 */
export const OPERATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--max-old-space-size=160'];

/**
 * OPERATOR_MALLOC_ENV is the C library's allocator setting the operator runs with, also read only
 * when a process starts. glibc gives each thread that allocates its own arena (up to 8 per core),
 * and V8's and libuv's worker threads each keep one partly used: `MALLOC_ARENA_MAX=2` took 20 MiB
 * off the RSS of an operator with 1,000 profiles (174 → 154 MiB; anonymous memory 91 → 71 MiB in
 * /proc/PID/smaps), in the same time to reconcile them (10.1 s against 9.9 s, one run each).
 */
export const OPERATOR_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * operatorEnvironment is the environment the operator's process needs, as variables: its heap
 * flags in NODE_OPTIONS and the allocator's setting. The container sets these; the benchmark too.
 */
export function operatorEnvironment(): Record<string, string> {
  return { NODE_OPTIONS: OPERATOR_NODE_FLAGS.join(' '), ...OPERATOR_MALLOC_ENV };
}

/** missingMallocEnv is the allocator settings `env` does not set (a value given there wins over ours). */
export function missingMallocEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(OPERATOR_MALLOC_ENV).filter(([name]) => env[name] === undefined));
}

/**
 * missingNodeFlags lists the flags of `wanted` that neither the process's own flags nor
 * NODE_OPTIONS set (by name: a value given there wins over ours).
 */
export function missingNodeFlags(
  wanted: readonly string[],
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map(flagName);
  return wanted.filter((flag) => !given.includes(flagName(flag)));
}

/** flagName is a flag without its value, with V8's `_` and `-` spellings made one. */
function flagName(flag: string): string {
  return (flag.split('=')[0] ?? '').replaceAll('_', '-');
}
