/**
 * The observed state of a PerformanceProfile, written by the operator only: conditions, the knob
 * values read and recommended, the last metric snapshot and the decision history.
 */
import Type, { type Static } from 'typebox';
import { CONDITION_TYPES, DecisionOutcome, KNOBS, type Knob, MAX_HISTORY, SloState } from './constants.ts';
import { StringEnum } from './schema-builders.ts';

const time = (description: string) => Type.String({ format: 'date-time', description });

/** Condition is a standard Kubernetes condition (metav1.Condition). */
export const Condition = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      description: `type of the condition: ${CONDITION_TYPES.join(', ')}.`,
    }),
    status: StringEnum(['True', 'False', 'Unknown'] as const, {
      description: 'status of the condition: True, False or Unknown.',
    }),
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: 'int64',
        description: 'observedGeneration is the metadata.generation the condition was set for.',
      }),
    ),
    lastTransitionTime: time('lastTransitionTime is when the status last changed.'),
    reason: Type.String({
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description: 'reason is a CamelCase, machine-readable cause of the last transition.',
    }),
    message: Type.String({ maxLength: 32768, description: 'message explains the transition for humans.' }),
  },
  { description: 'A standard Kubernetes condition.' },
);
export type Condition = Static<typeof Condition>;

const knobValue = (description: string) => Type.Optional(Type.Integer({ minimum: 0, description }));

/** KnobValues holds one value per knob; a missing field means unknown. */
export const KnobValues = Type.Object(
  {
    poolSize: knobValue('poolSize is DB_POOL_SIZE.'),
    maxOverflow: knobValue('maxOverflow is DB_MAX_OVERFLOW.'),
    redisMaxmemoryMiB: knobValue('redisMaxmemoryMiB is the Redis maxmemory in MiB.'),
    minReplicas: knobValue('minReplicas is the HPA’s minReplicas.'),
    maxReplicas: knobValue('maxReplicas is the HPA’s maxReplicas.'),
    hpaTargetCpuPercent: knobValue(
      'hpaTargetCpuPercent is the HPA’s average CPU utilization target, in percent of the pods’ CPU request.',
    ),
    hpaTargetRequestsPerPod: knobValue(
      'hpaTargetRequestsPerPod is the averageValue target of the HPA’s request-rate metric (spec.knobs.hpaTarget.requestRate), in requests per second per pod.',
    ),
  },
  { description: 'Values of the tuned knobs; a missing field is unknown.' },
);
export type KnobValues = Static<typeof KnobValues>;

const measured = (description: string) => Type.Optional(Type.Number({ description }));

/** MetricSnapshotStatus is the last metric snapshot, as reported in status. */
export const MetricSnapshotStatus = Type.Object(
  {
    time: time('time the snapshot was taken.'),
    stale: Type.Boolean({ description: 'stale is true when a sample was older than the staleness limit.' }),
    requestsPerSecond: measured('requestsPerSecond is the API’s total request rate.'),
    p95LatencyMs: measured('p95LatencyMs is the 95th percentile latency in milliseconds.'),
    errorRatePercent: measured('errorRatePercent is the share of 5xx responses in percent.'),
    cacheHitRatePercent: measured('cacheHitRatePercent is the cache hit rate in percent.'),
    poolUsagePercent: measured('poolUsagePercent is the DB pool usage in percent.'),
    poolWaitSecondsP95: measured('poolWaitSecondsP95 is the 95th percentile wait for a DB connection.'),
    readyReplicas: measured('readyReplicas is the number of ready API pods.'),
    redisUsedMemoryMiB: measured('redisUsedMemoryMiB is the largest used_memory across Redis nodes, in MiB.'),
    redisEvictedKeysPerSecond: measured('redisEvictedKeysPerSecond is the eviction rate across Redis nodes.'),
  },
  { description: 'lastSnapshot is the last metric snapshot; a missing field was not measured.' },
);
export type MetricSnapshotStatus = Static<typeof MetricSnapshotStatus>;

/** Decision is one entry of the decision history. */
export const Decision = Type.Object(
  {
    time: time('time of the decision.'),
    knob: StringEnum<Knob>(KNOBS, { description: `knob decided on: ${KNOBS.join(', ')}.` }),
    from: Type.Integer({ minimum: 0, description: 'from is the value before.' }),
    to: Type.Integer({ minimum: 0, description: 'to is the proposed or applied value.' }),
    outcome: StringEnum(Object.values(DecisionOutcome), {
      description: `outcome: ${Object.values(DecisionOutcome).join(', ')}.`,
    }),
    reason: Type.String({ maxLength: 1024, description: 'reason explains the decision for humans.' }),
    sloMetBefore: Type.Optional(
      Type.Boolean({
        description:
          'sloMetBefore tells whether the p95 and error-rate SLOs held in the snapshot the change was based on; a worse SLO after it, within the verification window, rolls it back.',
      }),
    ),
    snapshot: Type.Optional(
      Type.Object(MetricSnapshotStatus.properties, {
        description: 'snapshot is the metric snapshot the decision was based on.',
      }),
    ),
  },
  { description: 'A decision on one knob, with its reason and the snapshot it was based on.' },
);
export type Decision = Static<typeof Decision>;

/** ForecastStatus is the forecast floor's last answer: the forecast, its error and the floor. */
export const ForecastStatus = Type.Object(
  {
    mode: Type.String({ maxLength: 16, description: 'mode is spec.policy.forecast when it was computed.' }),
    season: Type.Optional(
      StringEnum(['daily', 'weekly'], {
        description: 'season is the season the forecast repeats: daily or weekly.',
      }),
    ),
    peakRequestsPerSecond: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'peakRequestsPerSecond is the highest forecast request rate within the lead (start-up, one HPA sync, one evaluation).',
      }),
    ),
    errorPercent: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'errorPercent is the forecast’s mean absolute percentage error over the last season; absent until two seasons exist.',
      }),
    ),
    minReplicas: Type.Optional(
      Type.Integer({ minimum: 0, description: 'minReplicas is the floor the forecast asks for.' }),
    ),
    applied: Type.Boolean({
      description:
        'applied tells whether the floor raised the minReplicas proposal (mode Auto, above the reactive rule, ahead of a rise).',
    }),
    message: Type.String({
      maxLength: 1024,
      description: 'message explains the forecast, or why it is off (less than one full day of history).',
    }),
  },
  { description: 'forecast is the forecast floor’s last answer.' },
);
export type ForecastStatus = Static<typeof ForecastStatus>;

/** PerformanceProfileStatus is the observed state, written by the operator only. */
export const PerformanceProfileStatus = Type.Object(
  {
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: 'int64',
        description: 'observedGeneration is the metadata.generation last reconciled.',
      }),
    ),
    conditions: Type.Optional(
      Type.Array(Condition, {
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        description: `conditions: ${CONDITION_TYPES.join(', ')}.`,
      }),
    ),
    sloState: Type.Optional(
      StringEnum(Object.values(SloState), {
        description: 'sloState summarizes SLOMet: Met, Violated or Unknown.',
      }),
    ),
    knobsSummary: Type.Optional(
      Type.String({
        maxLength: 256,
        description: 'knobsSummary shows the current knob values in one line, for kubectl get.',
      }),
    ),
    lastDecision: Type.Optional(
      Type.String({
        maxLength: 256,
        description: 'lastDecision summarizes the newest history entry in one line, for kubectl get.',
      }),
    ),
    current: Type.Optional(
      Type.Object(KnobValues.properties, {
        description:
          'current holds the knob values as last read from the target; a missing field is unknown.',
      }),
    ),
    recommended: Type.Optional(
      Type.Object(KnobValues.properties, {
        description:
          'recommended holds the values the tuning engine proposes, after the safety gate; equal to current when nothing should change.',
      }),
    ),
    lastSnapshot: Type.Optional(MetricSnapshotStatus),
    forecast: Type.Optional(ForecastStatus),
    history: Type.Optional(
      Type.Array(Decision, {
        maxItems: MAX_HISTORY,
        description: `history holds the newest ${MAX_HISTORY} decisions, oldest first.`,
      }),
    ),
  },
  { description: 'status is the observed state of a PerformanceProfile, written by the operator.' },
);
export type PerformanceProfileStatus = Static<typeof PerformanceProfileStatus>;
