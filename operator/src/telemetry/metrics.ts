/**
 * The operator's own Prometheus metrics: one registry holding the runtime's metrics (reconciles,
 * workqueue, leader status, watches), the per-profile knob gauges and decision counters, and the
 * default process metrics. Every replica serves them, leader or not.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { OperatorMetric } from '../api/v1alpha1/constants.ts';

/**
 * RuntimeMetrics are the metrics the runtime (informer, workqueue, workers, leader election)
 * updates. Every component takes them as an optional dependency, so tests can leave them out.
 */
export interface RuntimeMetrics {
  /** reconcileTotal counts finished reconciles by result ("success" | "error"). */
  readonly reconcileTotal: Counter<'result'>;
  /** reconcileErrors counts failed reconciles by the error policy's action ("retry" | "requeueAfter" | "drop"). */
  readonly reconcileErrors: Counter<'action'>;
  /** reconcileDuration observes each reconcile's duration in seconds, by result. */
  readonly reconcileDuration: Histogram<'result'>;
  /** workqueueDepth is the number of keys waiting to be processed, by queue name. */
  readonly workqueueDepth: Gauge<'name'>;
  /** workqueueAdds counts keys queued (including re-adds of keys already queued), by queue name. */
  readonly workqueueAdds: Counter<'name'>;
  /** workqueueQueueLatency observes how long a key waited in the queue before a worker took it, in seconds. */
  readonly workqueueQueueLatency: Histogram<'name'>;
  /** workqueueRetries counts rate-limited re-adds (a reconcile that will be retried), by queue name. */
  readonly workqueueRetries: Counter<'name'>;
  /** leader is 1 on the replica holding the lease, 0 elsewhere. */
  readonly leader: Gauge;
  /** watchRestarts counts watches opened again after they ended or failed, by resource. */
  readonly watchRestarts: Counter<'resource'>;
  /** relists counts full lists after the first one (410 Gone, periodic relist), by resource. */
  readonly relists: Counter<'resource'>;
}

/** OperatorMetrics are the runtime metrics plus the registry and the per-profile tuning metrics. */
export interface OperatorMetrics extends RuntimeMetrics {
  /** registry holds every metric below and the default process metrics; `/metrics` serves it. */
  readonly registry: Registry;
  /** knobValue is each knob's current and recommended value, by namespace, profile, knob and kind. */
  readonly knobValue: Gauge<'namespace' | 'profile' | 'knob' | 'kind'>;
  /** decisionsTotal counts tuning decisions by namespace, profile, knob and outcome. */
  readonly decisionsTotal: Counter<'namespace' | 'profile' | 'knob' | 'outcome'>;
  /**
   * metricUnknownTotal counts signals a source could not measure, by source (prometheus, redis,
   * kubernetes), signal and reason (empty, multiple_series, nan, infinite, negative, stale,
   * unanswered, ...; see metrics/prometheus-result.ts): each is unknown, never zero.
   */
  readonly metricUnknownTotal: Counter<'source' | 'signal' | 'reason'>;
}

/** Histogram buckets in seconds, from 1 ms (an in-memory decision) to 60 s (a slow API server). */
const durationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * createOperatorMetrics registers the operator's metrics in `registry` and returns them.
 * Call it once per registry: prom-client refuses a second metric of the same name.
 *
 * @param registry the registry to fill. @default a new Registry
 */
export function createOperatorMetrics(registry: Registry = new Registry()): OperatorMetrics {
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    reconcileTotal: new Counter({
      name: OperatorMetric.reconcileTotal,
      help: 'Reconciles finished, by result (success or error).',
      labelNames: ['result'],
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'perfpilot_reconcile_errors_total',
      help: 'Reconciles that failed, by the action the error policy chose (retry, requeueAfter, drop).',
      labelNames: ['action'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'perfpilot_reconcile_duration_seconds',
      help: 'Duration of one reconcile in seconds, by result.',
      labelNames: ['result'],
      buckets: durationBuckets,
      registers,
    }),
    workqueueDepth: new Gauge({
      name: 'perfpilot_workqueue_depth',
      help: 'Keys waiting in the workqueue.',
      labelNames: ['name'],
      registers,
    }),
    workqueueAdds: new Counter({
      name: 'perfpilot_workqueue_adds_total',
      help: 'Keys added to the workqueue, including keys already waiting.',
      labelNames: ['name'],
      registers,
    }),
    workqueueQueueLatency: new Histogram({
      name: 'perfpilot_workqueue_queue_duration_seconds',
      help: 'Time a key waited in the workqueue before a worker took it, in seconds.',
      labelNames: ['name'],
      buckets: durationBuckets,
      registers,
    }),
    workqueueRetries: new Counter({
      name: 'perfpilot_workqueue_retries_total',
      help: 'Rate-limited re-adds of keys whose reconcile failed.',
      labelNames: ['name'],
      registers,
    }),
    leader: new Gauge({
      name: OperatorMetric.leader,
      help: '1 on the replica holding the leader-election lease, 0 on standbys.',
      registers,
    }),
    watchRestarts: new Counter({
      name: 'perfpilot_watch_restarts_total',
      help: 'Watches opened again after they ended, failed or went quiet, by resource.',
      labelNames: ['resource'],
      registers,
    }),
    relists: new Counter({
      name: 'perfpilot_relists_total',
      help: 'Full relists after the initial list (410 Gone, periodic relist), by resource.',
      labelNames: ['resource'],
      registers,
    }),
    knobValue: new Gauge({
      name: OperatorMetric.knobValue,
      help: "Each knob's value by kind: current (as applied) or recommended (by the tuning engine).",
      labelNames: ['namespace', 'profile', 'knob', 'kind'],
      registers,
    }),
    decisionsTotal: new Counter({
      name: OperatorMetric.decisionsTotal,
      help: 'Tuning decisions by knob and outcome.',
      labelNames: ['namespace', 'profile', 'knob', 'outcome'],
      registers,
    }),
    metricUnknownTotal: new Counter({
      name: OperatorMetric.metricUnknownTotal,
      help: 'Signals a metric source could not measure (empty, several series, NaN, infinite, negative, stale, unanswered), by source, signal and reason; each is unknown, never zero.',
      labelNames: ['source', 'signal', 'reason'],
      registers,
    }),
  };
}
