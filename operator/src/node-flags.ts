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

/** OPERATOR_NODE_FLAGS are the V8 flags the operator runs with, in the container and from the CLI. */
export const OPERATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--max-old-space-size=160'];

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
