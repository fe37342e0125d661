/**
 * Latency and errors of one replica in one tick, from M/M/c queues (Erlang-C): the replica's CPU
 * workers, then, for cache misses, its DB pool, the database's CPU (when a scenario gives it) and
 * the query itself. Each wait is "zero with probability 1 − C, else exponential with rate cμ − λ"
 * (the M/M/c waiting-time law), and the query time is a fixed floor plus an exponential; the tail
 * of their sum is the hypoexponential tail, exact for distinct rates. p95 is found by bisection on
 * the mixture of hits, misses and timeouts.
 */
import { erlangC } from '../tuning/queueing.ts';

/** Requests that do not finish within this are counted as failed timeouts. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Share of a query's mean time that is a fixed floor; the rest is exponential. An exponential
 * query alone (share 0) has a p95 of 3 × its mean, where the risk API's price-history query on
 * PostgreSQL measured about 2 × (the latency calibration, operator/src/sim/README.md, which
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
 * The wait for the DB's CPU: M/M/c/K with c = the cores rounded (at least 1), each cores / c fast,
 * and K = the connections (a query beyond them waits in its pool, not at the DB). The wait is
 * given as "zero with the probability of finding every core busy, else exponential" with the
 * queue's mean (Little's law on the M/M/c/K queue length). With no more connections than cores,
 * nothing waits at the DB.
 */
function databaseWait(db: DatabaseCpu): { wait: WaitComponent; meanMs: number } {
  const none = { wait: { probability: 0, ratePerMs: 1 }, meanMs: 0 };
  const servers = Math.max(1, Math.round(db.cores));
  const capacity = Math.floor(db.connections);
  const serviceMs = (db.cpuMsPerQuery * servers) / db.cores;
  const offered = (db.queriesPerSecond * serviceMs) / 1000;
  if (capacity <= servers || offered <= 0) return none;
  // log p_n up to a constant: p_n = p_{n-1} · a / min(n, c).
  const logP = [0];
  for (let n = 1; n <= capacity; n++)
    logP.push((logP[n - 1] as number) + Math.log(offered / Math.min(n, servers)));
  // A loop, not a spread: K is up to the DB's max_connections (100,000), near what a call takes.
  const top = logP.reduce((m, x) => Math.max(m, x), Number.NEGATIVE_INFINITY);
  const p = logP.map((x) => Math.exp(x - top));
  const total = p.reduce((s, x) => s + x, 0);
  let waiting = 0;
  let queued = 0;
  for (let n = servers; n <= capacity; n++) {
    const share = (p[n] as number) / total;
    if (n < capacity) waiting += share;
    queued += (n - servers) * share;
  }
  const admitted = 1 - (p[capacity] as number) / total;
  const probability = waiting / admitted;
  const meanMs = (1000 * queued) / (db.queriesPerSecond * admitted);
  if (probability <= 0 || meanMs <= 0) return none;
  return { wait: { probability, ratePerMs: probability / meanMs }, meanMs };
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
  // The DB's CPU, shared by every replica: its wait adds to the time a connection is held, so
  // a DB short of CPU fills the pools, where what cannot be carried times out.
  const db = load.database
    ? databaseWait(load.database)
    : { wait: { probability: 0, ratePerMs: 1 }, meanMs: 0 };
  const holdMs = load.queryMs + db.meanMs;
  // DB pool: M/M/c with the connections the replica may hold; service = the connection's hold.
  const missRate = servedRate * (1 - h);
  const granted = Math.floor(load.grantedConnections);
  const offered = (missRate * holdMs) / 1000;
  let poolWait: WaitComponent = { probability: 0, ratePerMs: 1 };
  let busyConnections = offered;
  let meanPoolWaitMs = 0;
  const missShare = (servedRate / λ) * (1 - h);
  if (missRate > 0) {
    if (granted <= 0) {
      fastFailShare += missShare;
      busyConnections = 0;
    } else if (offered >= granted * 0.995) {
      // Saturated pool: what the connections cannot carry times out waiting (pool_timeout).
      const carried = (granted * 0.995) / offered;
      timeoutShare += missShare * (1 - carried);
      busyConnections = granted * 0.995;
      poolWait = { probability: 1, ratePerMs: (granted * 0.005) / holdMs };
      meanPoolWaitMs = 1 / poolWait.ratePerMs;
    } else {
      const waitProbability = erlangC(granted, offered);
      const drainPerMs = (granted - offered) / holdMs;
      if (granted < load.poolConnections) {
        // The pool would open another connection, and the DB refuses it: the request fails.
        fastFailShare += missShare * waitProbability;
      } else {
        poolWait = { probability: waitProbability, ratePerMs: drainPerMs };
        meanPoolWaitMs = waitProbability / drainPerMs;
      }
    }
  }
  const hitShare = (servedRate / λ) * h;
  const fixedShare = load.queryFixedShare ?? QUERY_FIXED_SHARE;
  const queryFloorMs = fixedShare * load.queryMs;
  const queryVariableMs = load.queryMs - queryFloorMs;
  const query: WaitComponent = {
    probability: queryVariableMs > 1e-9 ? 1 : 0,
    ratePerMs: 1 / Math.max(queryVariableMs, 1e-9),
  };
  const missSuccessShare = Math.max(0, missShare - fastFailShare - (timeoutShare - (1 - servedRate / λ)));
  const counted = 1 - fastFailShare;
  const hitTail = tailOfSum(load.hitLatencyMs, [appWait]);
  const missTail = tailOfSum(load.missLatencyMs + queryFloorMs, [appWait, poolWait, db.wait, query]);
  const tail = (t: number) =>
    (hitShare * hitTail(t) + missSuccessShare * missTail(t) + timeoutShare) / counted;
  let p95Ms: number;
  if (counted <= 0 || timeoutShare / counted >= 0.05) p95Ms = REQUEST_TIMEOUT_MS;
  else {
    let lo = 0;
    let hi = REQUEST_TIMEOUT_MS;
    for (let i = 0; i < 40; i++) {
      const mid = (lo + hi) / 2;
      if (tail(mid) > 0.05) lo = mid;
      else hi = mid;
    }
    p95Ms = hi;
  }
  return {
    cpuUtilization,
    failedShare: Math.min(1, timeoutShare + fastFailShare),
    p95Ms,
    busyConnections,
    meanPoolWaitMs,
  };
}
