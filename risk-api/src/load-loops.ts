/**
 * How a phase sends its requests: a closed loop (autocannon, each connection sends when answered)
 * at rate 0, or an open loop of Poisson arrivals (undici) at a set rate, whatever the answers do.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { seededRandom } from '../../operator/src/sim/seeded-random.ts';
import type { Choice, EndpointName, LoadPhase } from './load-plan.ts';

/** Whether an answer came from the cache, as the API's `x-cache` header says. */
export type CacheMark = 'hit' | 'miss' | undefined;

/** cacheMark reads the `x-cache` header of an answer. */
export function cacheMark(header: unknown): CacheMark {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string') return undefined;
  const upper = value.toUpperCase();
  return upper === 'HIT' ? 'hit' : upper === 'MISS' ? 'miss' : undefined;
}

/** What a phase runner reports for each request. */
export interface PhaseSink {
  /** next draws the next request of the mix. */
  next(): Choice;
  /**
   * answered: a response with its status, its latency from its due time and from its send (ms),
   * and whether the API answered it from the cache.
   */
  answered(
    endpoint: EndpointName,
    status: number,
    latencyMs: number,
    fromSendMs: number,
    cache: CacheMark,
  ): void;
  /** failed: no response (refused, reset, timed out). */
  failed(): void;
  /** sent: an open loop's request went out `lagMs` after it was due. */
  sent(lagMs: number): void;
}

/** A phase's settings as its runner needs them. */
export interface PhaseRun {
  readonly origin: string;
  readonly phase: LoadPhase;
  readonly connections: number;
  readonly timeoutSeconds: number;
  readonly seed: number;
}

/**
 * A phase at the highest rate the connections allow: autocannon's closed loop, each connection
 * sending its next request when the previous one is answered.
 */
export function closedLoopPhase(run: PhaseRun, sink: PhaseSink): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      {
        url: run.origin,
        connections: run.connections,
        duration: run.phase.durationSeconds,
        timeout: run.timeoutSeconds,
        requests: [
          {
            setupRequest: (request, context) => {
              const choice = sink.next();
              const c = context as { endpoint?: EndpointName; sentAt?: number };
              c.endpoint = choice.endpoint;
              c.sentAt = performance.now();
              return {
                ...request,
                method: choice.method,
                path: choice.path,
                headers: choice.body ? { 'content-type': 'application/json' } : {},
                body: choice.body ?? '',
              } as typeof request;
            },
            onResponse: (status, _body, context, headers) => {
              const c = context as { endpoint: EndpointName; sentAt: number };
              const latency = performance.now() - c.sentAt;
              sink.answered(c.endpoint, status, latency, latency, cacheMark(headers?.['x-cache']));
            },
          },
        ],
      },
      (err) => (err ? reject(err) : resolve()),
    );
    instance.on('reqError', () => sink.failed());
  });
}

/** Requests dispatched in one go before the arrival loop yields to answers. */
const ARRIVALS_PER_TURN = 64;

/**
 * A phase at an offered rate: an open loop of Poisson arrivals (exponential gaps, mean 1/rate,
 * drawn from the seed), each sent when it is due whatever the answers before it, over at most
 * `connections` keep-alive connections (undici's Pool; a request that finds them all busy waits
 * for one). Latency runs from the request's due time, so a wait for a connection counts, as a
 * user's would. autocannon's own rate limit instead sends each connection's share of a second at
 * the start of that second, a burst the API answers as a queue.
 */
export async function openLoopPhase(run: PhaseRun, sink: PhaseSink): Promise<void> {
  const pool = new Pool(run.origin, {
    connections: run.connections,
    headersTimeout: run.timeoutSeconds * 1000,
    bodyTimeout: run.timeoutSeconds * 1000,
  });
  // Its own stream, so the requests drawn are the same whatever the arrival times.
  const random = seededRandom(run.seed ^ 0x5bd1e995);
  const meanGapMs = 1000 / run.phase.rate;
  const started = performance.now();
  const endsAt = started + run.phase.durationSeconds * 1000;
  const inFlight = new Set<Promise<void>>();
  const send = (dueAt: number) => {
    const sentAt = performance.now();
    sink.sent(Math.max(0, sentAt - dueAt));
    const choice = sink.next();
    const request = pool
      .request({
        path: choice.path,
        method: choice.method,
        ...(choice.body ? { headers: { 'content-type': 'application/json' }, body: choice.body } : {}),
      })
      .then(
        async (response) => {
          await response.body.dump();
          const answeredAt = performance.now();
          // A request sent up to a millisecond early (the arrivals due within one are sent together)
          // counts from its send.
          sink.answered(
            choice.endpoint,
            response.statusCode,
            answeredAt - Math.min(dueAt, sentAt),
            answeredAt - sentAt,
            cacheMark(response.headers['x-cache']),
          );
        },
        () => sink.failed(),
      )
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  try {
    let dueAt = started;
    for (let sentThisTurn = 0; ; ) {
      dueAt += -Math.log(1 - random.uniform()) * meanGapMs;
      if (dueAt >= endsAt) break;
      const wait = dueAt - performance.now();
      if (wait >= 1) {
        await sleep(wait);
        sentThisTurn = 0;
      } else if (++sentThisTurn >= ARRIVALS_PER_TURN) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sentThisTurn = 0;
      }
      send(dueAt);
    }
    // The phase lasts its duration, whenever its last arrival fell.
    const rest = endsAt - performance.now();
    if (rest > 0) await sleep(rest);
    await Promise.all(inFlight);
  } finally {
    await pool.close();
  }
}
