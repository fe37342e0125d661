/**
 * The soak's fault schedule, drawn from a seed: every fault type at least once (a seeded
 * permutation of all of them comes first), then random types until the run is full, spaced
 * evenly with jitter so that neighbours overlap sometimes. Durations shrink with the spacing, so a
 * 4-minute run holds every type once and an hour holds about one fault a minute. Pure: the same
 * seed and duration give the same schedule.
 */
import { seededRandom } from '../../operator/src/sim/seeded-random.ts';

/** The fault types, each made on a real component by faults.ts. */
export const FAULT_TYPES = [
  'redis-master-kill',
  'apiserver-restart',
  'leader-kill',
  'prometheus-stop',
  'scrape-stall',
  'metric-nan',
  'postgres-restart',
  'redis-cutoff',
  'apiserver-slow',
] as const;
/** FaultType is one of FAULT_TYPES. */
export type FaultType = (typeof FAULT_TYPES)[number];

/**
 * How long each fault lasts in a run with a fault a minute, and the least it may shrink to, in
 * seconds. For the kills and restarts it is the time the component stays down.
 */
export const FAULT_SECONDS: Readonly<Record<FaultType, { readonly full: number; readonly least: number }>> = {
  'redis-master-kill': { full: 20, least: 5 },
  'apiserver-restart': { full: 5, least: 2 },
  // The killed replica comes back after this long, as its Deployment would start a new Pod.
  'leader-kill': { full: 15, least: 5 },
  'prometheus-stop': { full: 60, least: 15 },
  'scrape-stall': { full: 45, least: 15 },
  'metric-nan': { full: 45, least: 15 },
  'postgres-restart': { full: 5, least: 2 },
  'redis-cutoff': { full: 45, least: 15 },
  'apiserver-slow': { full: 45, least: 15 },
};

/** Seconds at the start without faults: the operator's first cycles on a healthy stack. */
export const WARMUP_SECONDS = 20;
/** Seconds at the end without new faults: the last fault's recovery is measured in them. */
export const TAIL_SECONDS = 40;
/** The spacing of faults in a long run: one a minute. */
export const FULL_SPACING_SECONDS = 60;
/** The shortest run: every fault type once, at least 20 s apart from the next. */
export const MIN_DURATION_SECONDS = WARMUP_SECONDS + TAIL_SECONDS + FAULT_TYPES.length * 20;
/** The longest run the tool accepts: a day. */
export const MAX_DURATION_SECONDS = 86_400;

/** One scheduled fault: its type, and when it starts and ends in seconds since the run began. */
export interface ScheduledFault {
  readonly type: FaultType;
  readonly startSeconds: number;
  readonly endSeconds: number;
}

/** drawSchedule draws the faults of a run of `durationSeconds` from `seed`, ordered by start. */
export function drawSchedule(seed: number, durationSeconds: number): ScheduledFault[] {
  if (!Number.isInteger(durationSeconds) || durationSeconds < MIN_DURATION_SECONDS) {
    throw new Error(
      `duration must be a whole number of seconds of at least ${MIN_DURATION_SECONDS} (every fault type once), got ${durationSeconds}`,
    );
  }
  if (durationSeconds > MAX_DURATION_SECONDS) {
    throw new Error(`duration must be at most ${MAX_DURATION_SECONDS} s, got ${durationSeconds}`);
  }
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a whole number ≥ 0, got ${seed}`);
  const random = seededRandom(seed);
  const available = durationSeconds - WARMUP_SECONDS - TAIL_SECONDS;
  const count = Math.max(FAULT_TYPES.length, Math.floor(available / FULL_SPACING_SECONDS));
  const spacing = available / count;
  const scale = Math.min(1, spacing / FULL_SPACING_SECONDS);
  const types: FaultType[] = [...FAULT_TYPES];
  // Fisher–Yates: every type once, in a seeded order.
  for (let i = types.length - 1; i > 0; i--) {
    const j = Math.floor(random.uniform() * (i + 1));
    [types[i], types[j]] = [types[j] as FaultType, types[i] as FaultType];
  }
  while (types.length < count)
    types.push(FAULT_TYPES[Math.floor(random.uniform() * FAULT_TYPES.length)] as FaultType);
  const faults: ScheduledFault[] = [];
  /** When each type's last fault ends: one fault of a type at a time (one Redis master down, not two). */
  const busyUntil = new Map<FaultType, number>();
  for (const [i, type] of types.entries()) {
    const { full, least } = FAULT_SECONDS[type];
    // Jitter of up to a third of the spacing either way: some faults start before the previous ends.
    const jitter = (random.uniform() - 0.5) * (2 / 3) * spacing;
    const start = Math.max(WARMUP_SECONDS + i * spacing + jitter, busyUntil.get(type) ?? 0, WARMUP_SECONDS);
    const length = Math.max(least, Math.round(full * scale * (0.7 + 0.6 * random.uniform())));
    const startSeconds = Math.round(start);
    // Every fault ends inside the run, leaving most of the tail to recover in; never shorter than its least.
    const endSeconds = Math.max(
      startSeconds + least,
      Math.min(startSeconds + length, durationSeconds - TAIL_SECONDS / 2),
    );
    busyUntil.set(type, endSeconds + 1);
    faults.push({ type, startSeconds, endSeconds });
  }
  return faults.sort((a, b) => a.startSeconds - b.startSeconds);
}

/** seedOfDay alternates between two seeds by the day of the year (UTC), for CI's short soak. */
export function seedOfDay(date: Date, seeds: readonly [number, number]): number {
  const dayOfYear = Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 0)) / 86_400_000);
  return seeds[dayOfYear % 2] as number;
}
