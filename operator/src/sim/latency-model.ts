/**
 * Latency and errors of one replica in one tick, from queues: the replica's CPU workers (M/M/c,
 * Erlang-C), then, for cache misses, its DB pool and the query. The pool is an M/M/c queue of its
 * connections; where a scenario gives the database's CPU, the pool and that CPU are one
 * birth–death queue instead (a query waiting for a connection is waiting for the DB's CPU, and
 * the queries holding connections share its cores). A wait for a connection is scaled by
 * Allen–Cunneen's (1 + Cs²) / 2 for a query that is not exponential. Each wait is "zero with
 * probability P, else exponential", and the query time is a fixed floor plus an exponential; the
 * tail of their sum is the hypoexponential tail, exact for distinct rates. p95 is found by
 * bisection on the mixture of hits, misses and timeouts.
 */
import { erlangC } from '../tuning/queueing.ts';

/** Requests that do not finish within this are counted as failed timeouts. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Share of a query's mean time that is a fixed floor; the rest is exponential. An exponential
 * query alone (share 0) has a p95 of 3 × its mean, where the risk API's price-history query on
 * PostgreSQL measured about 2 × (the latency calibration, docs/simulator.md, which
 * prints the rms error of the p95 for each share and from which this is set).
 */
export const QUERY_FIXED_SHARE = 0.4;

/** A wait that is zero with probability 1 − p and exponential with `rate` (per ms) otherwise. */
interface WaitComponent {
  readonly probability: number;
  readonly ratePerMs: number;
}

/** Rates nudged apart so the hypoexponential formula stays exact enough and finite. */
function distinctRates(components: readonly WaitComponent[]): WaitComponent[] {
  const out: WaitComponent[] = [];
  for (const c of components) {
    let rate = c.ratePerMs;
    while (out.some((o) => Math.abs(o.ratePerMs - rate) < 1e-3 * rate)) rate *= 1.01;
    out.push({ probability: c.probability, ratePerMs: rate });
  }
  return out;
}

/**
 * t ↦ P(fixed + Σ components > t). Each subset of present waits has probability Π p · Π (1 − p)
 * and a hypoexponential tail Σ_i e^{−r_i t} Π_{j≠i} r_j / (r_j − r_i) (distinct rates).
 */
function tailOfSum(fixedMs: number, components: readonly WaitComponent[]): (t: number) => number {
  const spread = distinctRates(components.filter((c) => c.probability > 0));
  const terms: { weight: number; rate: number }[] = [];
  const n = spread.length;
  for (let mask = 0; mask < 1 << n; mask++) {
    let weight = 1;
    const rates: number[] = [];
    for (let k = 0; k < n; k++) {
      const c = spread[k] as WaitComponent;
      if (mask & (1 << k)) {
        weight *= c.probability;
        rates.push(c.ratePerMs);
      } else weight *= 1 - c.probability;
    }
    if (weight <= 0) continue;
    for (let i = 0; i < rates.length; i++) {
      const ri = rates[i] as number;
      let coefficient = 1;
      for (let j = 0; j < rates.length; j++) {
        if (j !== i) coefficient *= (rates[j] as number) / ((rates[j] as number) - ri);
      }
      terms.push({ weight: weight * coefficient, rate: ri });
    }
  }
  return (t: number) => {
    const x = t - fixedMs;
    if (x < 0) return 1;
    let tail = 0;
    for (const term of terms) tail += term.weight * Math.exp(-term.rate * x);
    return Math.min(1, Math.max(0, tail));
  };
}

/** Inputs for one replica over one tick. */
export interface ReplicaLoad {
  /** requestsPerSecond: arrivals at this replica. */
  readonly requestsPerSecond: number;
  /** hitRate: share of requests answered from Redis. */
  readonly hitRate: number;
  /** cpuMsPerHit / cpuMsPerMiss: CPU one request costs. */
  readonly cpuMsPerHit: number;
  readonly cpuMsPerMiss: number;
  /** cpuCores: the replica's CPU request in cores. */
  readonly cpuCores: number;
  /** workers: concurrent request workers (CPU slots). */
  readonly workers: number;
  /** hitLatencyMs / missLatencyMs: fixed latency of each path besides queueing and the query. */
  readonly hitLatencyMs: number;
  readonly missLatencyMs: number;
  /** queryMs: mean DB query time, for which a connection is held. */
  readonly queryMs: number;
  /** poolConnections: pool + overflow the replica may open. */
  readonly poolConnections: number;
  /** grantedConnections: connections the DB lets this replica hold (≤ poolConnections). */
  readonly grantedConnections: number;
  /** queryFixedShare: share of queryMs that is a fixed floor. @default QUERY_FIXED_SHARE */
  readonly queryFixedShare?: number;
  /** database: the DB's CPU, which every replica's queries share; absent: it never binds. */
  readonly database?: DatabaseCpu;
}

/** The database's CPU, shared by all replicas. */
export interface DatabaseCpu {
  /** cores: CPU the DB has (may be fractional: what it gets of a shared machine). */
  readonly cores: number;
  /** cpuMsPerQuery: DB CPU one query costs. */
  readonly cpuMsPerQuery: number;
  /** queriesPerSecond: queries reaching the DB from every replica. */
  readonly queriesPerSecond: number;
  /** connections: every replica's pool connections together, the most queries the DB can hold. */
  readonly connections: number;
}

/**
 * Allen–Cunneen: a G/G/c queue waits about (Ca² + Cs²) / 2 of what an M/M/c queue of the same
 * load waits. Arrivals are Poisson (Ca² = 1); a query of a fixed floor plus an exponential has
 * Cs² = (1 − fixed share)², 0.36 at the calibrated share, so a wait for a connection is 0.68 of
 * Erlang-C's. Applied to the waits for a connection (their probability stays the queue's).
 */
export function allenCunneenFactor(queryFixedShare: number): number {
  return (1 + (1 - queryFixedShare) ** 2) / 2;
}

/** A replica's DB pool as a queue: {@link erlangPool}, or {@link poolOnSharedDatabase}. */
interface PoolQueue {
  /** saturated: the pool cannot carry the arrivals (they grow without bound). */
  readonly saturated: boolean;
  /** holdAtFullMs: a connection's hold with all of the pool's connections busy. */
  readonly holdAtFullMs: number;
  /** waitProbability: share of queries that find every connection busy (PASTA). */
  readonly waitProbability: number;
  /** drainPerMs: the rate of the exponential wait for a connection, given a wait. */
  readonly drainPerMs: number;
  /** busyConnections: mean connections held. */
  readonly busyConnections: number;
  /** meanHoldMs: mean time a query holds its connection (Little's law). */
  readonly meanHoldMs: number;
}

/**
 * A replica's misses when the DB's CPU is given: one birth–death queue for "a connection, then
 * the DB's CPU", n = this replica's misses in the system (waiting for a connection or holding
 * one). k = min(n, N) of them hold one of its N connections. A query spends `queryMs − cpuMs` off
 * the DB's CPU and `cpuMs` on it, and the cores are shared by every query running there (this
 * replica's k and the `otherBusy` connections of the others): a query gets min(1, cores / (k +
 * others)) of a core. So a connection is held hold(k) = (queryMs − cpuMs) + cpuMs · max(1, (k +
 * others) / cores), and the queue completes k / hold(k) queries a ms. Beyond N it completes
 * N / hold(N), so the wait for a connection is that of an M/M/1 queue, exponential with rate
 * N / hold(N) − λ given a wait. A queue of connections in front of a DB short of CPU is thus one
 * queue: the queries waiting in the pool are waiting for the DB's CPU. Measured on the risk API
 * with 5 connections at 88 % of PostgreSQL's CPU, the waits for a connection and at the DB were
 * 29 + 25 ms where the DB's M/M/c/5 queue and the pool's Erlang-C apart gave 2 + 11 ms.
 */
function poolOnSharedDatabase(
  missesPerMs: number,
  connections: number,
  queryMs: number,
  db: DatabaseCpu,
  otherBusy: number,
  allenCunneen: number,
): PoolQueue {
  const cpuMs = Math.min(db.cpuMsPerQuery, queryMs);
  const offCpuMs = queryMs - cpuMs;
  const cores = Math.max(db.cores, 1e-6);
  const hold = (k: number) => offCpuMs + cpuMs * Math.max(1, (k + otherBusy) / cores);
  const holdAtFullMs = hold(connections);
  const fullRate = connections / holdAtFullMs;
  const r = missesPerMs / fullRate;
  if (r >= 0.995) {
    return {
      saturated: true,
      holdAtFullMs,
      waitProbability: 1,
      drainPerMs: 0,
      busyConnections: connections * 0.995,
      meanHoldMs: holdAtFullMs,
    };
  }
  // π(n) ∝ Π λ / μ(i) up to N, then π(N) · r^(n−N); in logs, since N may be large.
  let logP = 0;
  const logs = [0];
  for (let n = 1; n <= connections; n++) {
    logP += Math.log((missesPerMs * hold(n)) / n);
    logs.push(logP);
  }
  const top = logs.reduce((m, x) => Math.max(m, x), Number.NEGATIVE_INFINITY);
  let total = 0;
  let held = 0;
  for (let n = 0; n < connections; n++) {
    const p = Math.exp((logs[n] as number) - top);
    total += p;
    held += n * p;
  }
  const queued = Math.exp((logs[connections] as number) - top) / (1 - r);
  total += queued;
  held += connections * queued;
  const busyConnections = held / total;
  return {
    saturated: false,
    holdAtFullMs,
    waitProbability: queued / total,
    drainPerMs: (fullRate - missesPerMs) / allenCunneen,
    busyConnections,
    meanHoldMs: busyConnections / missesPerMs,
  };
}

/** The pool alone: M/M/c (Erlang-C) over its connections, each query holding one for `queryMs`. */
function erlangPool(
  missesPerSecond: number,
  connections: number,
  queryMs: number,
  allenCunneen: number,
): PoolQueue {
  const offered = (missesPerSecond * queryMs) / 1000;
  return {
    saturated: offered >= connections * 0.995,
    holdAtFullMs: queryMs,
    waitProbability: erlangC(connections, offered),
    drainPerMs: (connections - offered) / queryMs / allenCunneen,
    busyConnections: offered,
    meanHoldMs: queryMs,
  };
}

/**
 * The replica's pool queue for `granted` connections and `missRate` misses a second: Erlang-C,
 * or with the DB's CPU given one queue with it, the others' busy connections found by a fixed
 * point (their queries by Little's law with the hold this replica sees).
 */
function poolQueue(load: ReplicaLoad, missRate: number, granted: number, allenCunneen: number): PoolQueue {
  if (!load.database) return erlangPool(missRate, granted, load.queryMs, allenCunneen);
  const othersPerMs = Math.max(0, load.database.queriesPerSecond - missRate) / 1000;
  const othersMax = Math.max(0, load.database.connections - granted);
  let queue: PoolQueue | undefined;
  let meanHold = load.queryMs;
  for (let i = 0; i < 6; i++) {
    queue = poolOnSharedDatabase(
      missRate / 1000,
      granted,
      load.queryMs,
      load.database,
      Math.min(othersMax, othersPerMs * meanHold),
      allenCunneen,
    );
    meanHold = queue.meanHoldMs;
  }
  return queue as PoolQueue;
}

/** What one replica delivers over one tick. */
export interface ReplicaOutcome {
  /** cpuUtilization: CPU used / requested (can exceed 1 when overloaded; served work is capped). */
  readonly cpuUtilization: number;
  /** failedShare: share of arrivals that fail (overload timeouts, pool timeouts, DB refusals). */
  readonly failedShare: number;
  /** p95Ms: 95th percentile of latency over requests that did not fail fast. */
  readonly p95Ms: number;
  /** busyConnections: mean connections checked out (Little's law). */
  readonly busyConnections: number;
  /** meanPoolWaitMs: mean wait for a connection. */
  readonly meanPoolWaitMs: number;
  /**
   * pathTails: P(latency > t ms) of a hit and of a miss that is served, each alone (for the p95
   * of one kind of answer: {@link tailQuantileMs}); absent when nothing arrived.
   */
  readonly pathTails?: { readonly hit: (t: number) => number; readonly miss: (t: number) => number };
}

/** The latency exceeded by `share` of requests under `tail` (bisection up to the request timeout). */
export function tailQuantileMs(tail: (t: number) => number, share = 0.05): number {
  let lo = 0;
  let hi = REQUEST_TIMEOUT_MS;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (tail(mid) > share) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Serves one replica's load for a tick; see the file comment for the model. */
export function serveReplica(load: ReplicaLoad): ReplicaOutcome {
  const λ = load.requestsPerSecond;
  const h = load.hitRate;
  if (λ <= 0) {
    return { cpuUtilization: 0, failedShare: 0, p95Ms: 0, busyConnections: 0, meanPoolWaitMs: 0 };
  }
  const cpuMs = h * load.cpuMsPerHit + (1 - h) * load.cpuMsPerMiss;
  const cpuUtilization = (λ * cpuMs) / (load.cpuCores * 1000);
  let timeoutShare = 0;
  let fastFailShare = 0;
  // CPU: M/M/c with `workers` slots; each request occupies a slot for workers × its CPU share.
  const appServers = Math.max(1, Math.floor(load.workers));
  const appServiceMs = (appServers * cpuMs) / load.cpuCores;
  const appOffered = cpuUtilization * appServers;
  let appWait: WaitComponent;
  let servedRate = λ;
  if (cpuUtilization >= 0.995) {
    timeoutShare += 1 - 0.995 / cpuUtilization;
    servedRate = λ * (0.995 / cpuUtilization);
    appWait = { probability: 1, ratePerMs: (appServers * 0.005) / appServiceMs };
  } else {
    appWait = {
      probability: erlangC(appServers, appOffered),
      ratePerMs: (appServers - appOffered) / appServiceMs,
    };
  }
  // DB pool: M/M/c with the connections the replica may hold, service = the query. With the
  // DB's CPU given, the pool and the DB's CPU are one queue (poolOnSharedDatabase).
  const missRate = servedRate * (1 - h);
  const granted = Math.floor(load.grantedConnections);
  const allenCunneen = allenCunneenFactor(load.queryFixedShare ?? QUERY_FIXED_SHARE);
  let queryMeanMs = load.queryMs;
  let poolWait: WaitComponent = { probability: 0, ratePerMs: 1 };
  let busyConnections = (missRate * load.queryMs) / 1000;
  let meanPoolWaitMs = 0;
  const missShare = (servedRate / λ) * (1 - h);
  if (missRate > 0) {
    if (granted <= 0) {
      fastFailShare += missShare;
      busyConnections = 0;
    } else {
      const queue = poolQueue(load, missRate, granted, allenCunneen);
      queryMeanMs = queue.meanHoldMs;
      busyConnections = queue.busyConnections;
      if (queue.saturated) {
        // Saturated pool: what the connections cannot carry times out waiting (pool_timeout).
        const carried = (granted * 0.995) / ((missRate * queue.holdAtFullMs) / 1000);
        timeoutShare += missShare * (1 - carried);
        busyConnections = granted * 0.995;
        poolWait = { probability: 1, ratePerMs: (granted * 0.005) / queue.holdAtFullMs };
        meanPoolWaitMs = 1 / poolWait.ratePerMs;
      } else if (granted < load.poolConnections) {
        // The pool would open another connection, and the DB refuses it: the request fails.
        fastFailShare += missShare * queue.waitProbability;
      } else {
        poolWait = { probability: queue.waitProbability, ratePerMs: queue.drainPerMs };
        meanPoolWaitMs = queue.waitProbability / queue.drainPerMs;
      }
    }
  }
  const hitShare = (servedRate / λ) * h;
  const fixedShare = load.queryFixedShare ?? QUERY_FIXED_SHARE;
  const queryFloorMs = fixedShare * load.queryMs;
  const queryVariableMs = queryMeanMs - queryFloorMs;
  const query: WaitComponent = {
    probability: queryVariableMs > 1e-9 ? 1 : 0,
    ratePerMs: 1 / Math.max(queryVariableMs, 1e-9),
  };
  const missSuccessShare = Math.max(0, missShare - fastFailShare - (timeoutShare - (1 - servedRate / λ)));
  const counted = 1 - fastFailShare;
  const hitTail = tailOfSum(load.hitLatencyMs, [appWait]);
  const missTail = tailOfSum(load.missLatencyMs + queryFloorMs, [appWait, poolWait, query]);
  const tail = (t: number) =>
    (hitShare * hitTail(t) + missSuccessShare * missTail(t) + timeoutShare) / counted;
  const p95Ms = counted <= 0 || timeoutShare / counted >= 0.05 ? REQUEST_TIMEOUT_MS : tailQuantileMs(tail);
  return {
    cpuUtilization,
    failedShare: Math.min(1, timeoutShare + fastFailShare),
    p95Ms,
    busyConnections,
    meanPoolWaitMs,
    pathTails: { hit: hitTail, miss: missTail },
  };
}
