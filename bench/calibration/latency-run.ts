/**
 * What a latency calibration run records (bench/calibration/recorded/ holds them as JSON): the
 * API's setup, the offered rate and what was measured. The load (latency-load.ts) writes runs and
 * the fit (latency-fit.ts) reads them; both import this file, so the pure fit never imports the
 * code that starts processes.
 */

/** The endpoints calibrated: `data/:id` (one light query a miss) and `risk-analysis` (a heavy one). */
export type CalibratedEndpoint = 'data' | 'risk-analysis';

/** One configuration of the API. */
export interface ApiSetup {
  /** endpoint: the only endpoint the load asks for. */
  readonly endpoint: CalibratedEndpoint;
  /** poolSize: DB_POOL_SIZE (overflow 0, so the pool is exactly this). */
  readonly poolSize: number;
  /** ttlSeconds: TTL of the endpoint's cached answers, which sets the hit rate under Zipf load. */
  readonly ttlSeconds: number;
}

/** What one run at one offered rate measured. */
export interface LatencyRun {
  readonly setup: ApiSetup;
  readonly offeredRps: number;
  /** seconds: how long the run was measured (absent in runs recorded before it was: {@link MEASURED_SECONDS}). */
  readonly seconds?: number;
  /** sentRps: the arrivals the load generator sent (a Poisson count around the offered rate) a second. */
  readonly sentRps: number;
  /** achievedRps: requests answered a second, over the phase and the wait for its last answers. */
  readonly achievedRps: number;
  /** hitRate: answers from Redis (a risk analysis's positions are always cached after warm-up). */
  readonly hitRate: number;
  /**
   * p50Ms / p95Ms: latency from each request's send (the generator's connection wait counts, its
   * own lag does not). Runs recorded before `p95FromDueMs` was measured counted from the due time.
   */
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** p95FromDueMs: the p95 from each arrival's due time, the generator's lag included. */
  readonly p95FromDueMs?: number;
  /**
   * byCache: the p95 from each request's send of the answers the API marked `x-cache: HIT` and of
   * those marked `MISS`, with their number (absent in runs recorded before it was measured, and a
   * side absent when no answer was of that kind).
   */
  readonly byCache?: { readonly hit?: CacheP95; readonly miss?: CacheP95 };
  readonly errorShare: number;
  /** meanPoolWaitMs: mean wait for a connection over all checkouts. */
  readonly meanPoolWaitMs: number;
  /** cpuMsPerRequest: the API process's CPU time (user + system) per request. */
  readonly cpuMsPerRequest: number;
  /** queryMsPerMiss: query time per miss (the connection is held for each query only). */
  readonly queryMsPerMiss: number;
  /** dbCpuMsPerMiss: PostgreSQL's CPU time (the server's processes) per miss. */
  readonly dbCpuMsPerMiss: number;
  /** dbCores: the CPU PostgreSQL had: what it used plus what the machine left idle, in cores. */
  readonly dbCores: number;
  /**
   * sendLagP99Ms: how late the load generator sent its arrivals (p99), which `p95FromDueMs`
   * includes (absent in runs recorded before it was measured).
   */
  readonly sendLagP99Ms?: number;
}

/** The p95 of one kind of answer, and how many answers it is taken over. */
export interface CacheP95 {
  readonly answers: number;
  readonly p95Ms: number;
}

/** Seconds a measured run lasts at least (all of them, in runs recorded before `seconds` was). */
export const MEASURED_SECONDS = 8;
