/**
 * The one rule for how much of the Redis container's memory `maxmemory` may take: 3/4 of the
 * limit, leaving a quarter for fragmentation, replication buffers and the copy-on-write of a
 * fork. The CRD's CEL rule, the toolkit's value checks, the tuning engine's ceiling and the
 * simulator all derive from here.
 */

/** The share of the container memory limit `maxmemory` may use, as a fraction of whole numbers (for CEL). */
export const MAXMEMORY_SHARE_OF_LIMIT = { numerator: 3, denominator: 4 } as const;

/** The share as a percentage, for messages: 75. */
export const MAXMEMORY_SHARE_PERCENT =
  (100 * MAXMEMORY_SHARE_OF_LIMIT.numerator) / MAXMEMORY_SHARE_OF_LIMIT.denominator;

/** The largest `maxmemory` in whole MiB a container with `memoryLimitMiB` allows. */
export function maxmemoryCeilingForLimitMiB(memoryLimitMiB: number): number {
  return Math.floor(
    (memoryLimitMiB * MAXMEMORY_SHARE_OF_LIMIT.numerator) / MAXMEMORY_SHARE_OF_LIMIT.denominator,
  );
}

/** The CEL rule on `redisMaxmemory` that keeps `maxMiB` within the share of `containerMemoryLimitMiB`. */
export const MAXMEMORY_CEILING_CEL_RULE = `self.maxMiB * ${MAXMEMORY_SHARE_OF_LIMIT.denominator} <= self.containerMemoryLimitMiB * ${MAXMEMORY_SHARE_OF_LIMIT.numerator}`;
