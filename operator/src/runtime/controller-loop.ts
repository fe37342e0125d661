/**
 * Workers that take keys from the workqueue and reconcile them: success forgets the key's
 * failures and honours `requeueAfterMs`; failure asks the error policy whether to retry with
 * backoff, requeue after a fixed delay, or drop the key.
 */
import type { Logger } from '../telemetry/logger.ts';
import type { RuntimeMetrics } from '../telemetry/metrics.ts';
import { type Clock, systemClock } from './clock.ts';
import type { WorkQueue } from './workqueue.ts';

/** ReconcileResult is what a successful reconcile asks for next. */
export interface ReconcileResult {
  /** requeueAfterMs queues the key again after this delay (periodic evaluation). @default not requeued */
  readonly requeueAfterMs?: number;
}

/** ErrorAction is the error policy's choice after a failed reconcile. */
export type ErrorAction =
  /** retry: queue again with the rate limiter's backoff (transient errors). */
  | { readonly kind: 'retry' }
  /** requeueAfter: queue again after a fixed delay. */
  | { readonly kind: 'requeueAfter'; readonly delayMs: number }
  /** drop: do not queue again until the object changes (permanent errors). */
  | { readonly kind: 'drop' };

/** Options of runWorkers. */
export interface RunWorkersOptions {
  /** queue supplies the keys; stop() shuts it down. */
  readonly queue: WorkQueue;
  /** reconcile brings the object named by `key` to its desired state. */
  readonly reconcile: (key: string) => Promise<ReconcileResult>;
  /** errorPolicy classifies a failed reconcile's error (and may log, count, record Events). */
  readonly errorPolicy: (key: string, err: unknown) => ErrorAction;
  /** concurrency is the number of workers; one key is never reconciled by two at once. @default 2 */
  readonly concurrency?: number;
  /** metrics count reconciles, errors and durations. @default none */
  readonly metrics?: RuntimeMetrics;
  /** logger receives failures of the error policy itself. @default none */
  readonly logger?: Logger;
  /** clock times each reconcile for the duration histogram. @default systemClock */
  readonly clock?: Clock;
}

/** Workers is the handle of running workers. */
export interface Workers {
  /** stop shuts the queue down (no new work) and resolves when every in-flight reconcile has finished. */
  stop(): Promise<void>;
}

/** runWorkers starts `concurrency` workers on the queue. */
export function runWorkers(options: RunWorkersOptions): Workers {
  const concurrency = options.concurrency ?? 2;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(`runWorkers: concurrency must be a positive integer, got ${concurrency}`);
  }
  const workers = Array.from({ length: concurrency }, () => runWorker(options));
  return {
    stop: async () => {
      options.queue.shutDown();
      await Promise.all(workers);
    },
  };
}

async function runWorker(options: RunWorkersOptions): Promise<void> {
  const { queue } = options;
  for (;;) {
    const key = await queue.get();
    if (key === undefined) return;
    try {
      await reconcileOnce(key, options);
    } finally {
      queue.done(key);
    }
  }
}

async function reconcileOnce(key: string, options: RunWorkersOptions): Promise<void> {
  const { queue, metrics, logger } = options;
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const observe = (result: 'success' | 'error') => {
    metrics?.reconcileTotal.inc({ result });
    metrics?.reconcileDuration.observe({ result }, (clock.now() - startedAt) / 1000);
  };
  let result: ReconcileResult;
  try {
    result = await options.reconcile(key);
  } catch (err) {
    observe('error');
    let action: ErrorAction;
    try {
      action = options.errorPolicy(key, err);
    } catch (policyErr) {
      // A broken policy must not stop the worker; retrying with backoff is the safe default.
      logger?.error({ key, err: policyErr, reconcileErr: err }, 'error policy failed; retrying');
      action = { kind: 'retry' };
    }
    metrics?.reconcileErrors.inc({ action: action.kind });
    switch (action.kind) {
      case 'retry':
        queue.addRateLimited(key);
        break;
      case 'requeueAfter':
        queue.addAfter(key, action.delayMs);
        break;
      case 'drop':
        queue.forget(key);
        break;
    }
    return;
  }
  observe('success');
  queue.forget(key);
  if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
}
