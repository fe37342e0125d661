/**
 * Queueing formulas shared by the pool policy and the simulator: Little's law and the Erlang-C
 * (M/M/c) waiting probability. Sources: Little (1961), "A proof for the queuing formula L = λW";
 * Kleinrock, Queueing Systems vol. 1 (1975), §3.5 for M/M/c.
 */

/** Little's law: mean number in the system L = λ · W (arrival rate × mean time in system). */
export function littlesLaw(arrivalsPerSecond: number, secondsInSystem: number): number {
  return arrivalsPerSecond * secondsInSystem;
}

/**
 * Erlang-C: the probability that an arrival must wait in an M/M/c queue with `servers` servers
 * and offered load `offeredErlangs` (λ/μ). 1 when the queue is unstable (load ≥ servers).
 * Computed with the Erlang-B recursion, which stays finite for thousands of servers.
 */
export function erlangC(servers: number, offeredErlangs: number): number {
  const c = Math.floor(servers);
  if (c <= 0) return 1;
  if (offeredErlangs <= 0) return 0;
  if (offeredErlangs >= c) return 1;
  let erlangB = 1;
  for (let k = 1; k <= c; k++) {
    erlangB = (offeredErlangs * erlangB) / (k + offeredErlangs * erlangB);
  }
  const utilization = offeredErlangs / c;
  return erlangB / (1 - utilization + utilization * erlangB);
}

/**
 * P(wait > t) in an M/M/c queue: C(c, a) · exp(−(c·μ − λ)·t), with μ = 1 / mean service seconds.
 */
export function probabilityWaitExceeds(
  servers: number,
  arrivalsPerSecond: number,
  meanServiceSeconds: number,
  waitSeconds: number,
): number {
  const c = Math.floor(servers);
  const offered = arrivalsPerSecond * meanServiceSeconds;
  if (c <= 0 || offered >= c) return 1;
  const drainRate = c / meanServiceSeconds - arrivalsPerSecond;
  return erlangC(c, offered) * Math.exp(-drainRate * waitSeconds);
}

/** Mean wait in an M/M/c queue: C(c, a) / (c·μ − λ); infinite when unstable. */
export function meanWaitSeconds(
  servers: number,
  arrivalsPerSecond: number,
  meanServiceSeconds: number,
): number {
  const c = Math.floor(servers);
  const offered = arrivalsPerSecond * meanServiceSeconds;
  if (offered <= 0) return 0;
  if (c <= 0 || offered >= c) return Number.POSITIVE_INFINITY;
  return erlangC(c, offered) / (c / meanServiceSeconds - arrivalsPerSecond);
}

/**
 * The fewest servers that keep P(wait > maxWaitSeconds) ≤ tailProbability and utilization at or
 * below `maxUtilization`. This is how many pool connections a replica needs for its query rate.
 */
export function serversForWaitTarget(
  arrivalsPerSecond: number,
  meanServiceSeconds: number,
  maxWaitSeconds: number,
  tailProbability: number,
  maxUtilization: number,
): number {
  const offered = arrivalsPerSecond * meanServiceSeconds;
  if (offered <= 0) return 1;
  let c = Math.max(1, Math.ceil(offered / maxUtilization));
  while (probabilityWaitExceeds(c, arrivalsPerSecond, meanServiceSeconds, maxWaitSeconds) > tailProbability) {
    c++;
  }
  return c;
}
