/**
 * Names of the PerformanceProfile API (`perfpilot.dev/v1alpha1`): group, version, kind, the
 * annotation and finalizer the operator owns, and the condition types and reasons it reports.
 * The controller, the CRD generator and the toolkit all import them from here, so a name is
 * spelled once.
 */

/** GROUP is the API group of every PerfPilot resource. */
export const GROUP = 'perfpilot.dev';
/** VERSION is the served and stored version of the PerformanceProfile API. */
export const VERSION = 'v1alpha1';
/** API_VERSION is `group/version`, as written in an object's `apiVersion`. */
export const API_VERSION = `${GROUP}/${VERSION}`;
/** KIND is the PerformanceProfile kind. */
export const KIND = 'PerformanceProfile';
/** LIST_KIND is the kind of a list of PerformanceProfiles. */
export const LIST_KIND = 'PerformanceProfileList';
/** PLURAL is the resource name in URLs: `/apis/perfpilot.dev/v1alpha1/namespaces/{ns}/performanceprofiles`. */
export const PLURAL = 'performanceprofiles';
/** SINGULAR is the singular resource name (`kubectl get performanceprofile`). */
export const SINGULAR = 'performanceprofile';
/** SHORT_NAMES are kubectl abbreviations: `kubectl get pp`. */
export const SHORT_NAMES = ['pp', 'perfprofile', 'perfprofiles'] as const;
/** CATEGORY groups PerfPilot resources: `kubectl get perfpilot`. */
export const CATEGORY = 'perfpilot';
/** CRD_NAME is the CustomResourceDefinition's name, `<plural>.<group>`. */
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** PAUSED_ANNOTATION set to `"true"` on a profile stops every change; status reports `Paused=True`. */
export const PAUSED_ANNOTATION = 'perfpilot.dev/paused';
/**
 * FINALIZER is added when the operator first takes a target over; on deletion (in `Auto` mode)
 * the operator restores the knobs' original values, then removes it.
 */
export const FINALIZER = 'perfpilot.dev/restore-original-knobs';
/** ORIGINAL_VALUES_ANNOTATION holds, as JSON, the knob values found before the first change. */
export const ORIGINAL_VALUES_ANNOTATION = 'perfpilot.dev/original-values';
/**
 * LAST_CHANGE_ANNOTATION on each object a change is applied to (the HPA, the tuning ConfigMap
 * and the Deployment it rolls, the Redis ConfigMap) holds, as JSON, the profile's uid and the
 * status history entries of that change, written in the same server-side apply as the change.
 * An operator that stopped after applying and before writing status finds them there, so the
 * change is neither lost from history nor applied a second time.
 */
export const LAST_CHANGE_ANNOTATION = 'perfpilot.dev/last-change';
/** CONFIG_HASH_ANNOTATION on the API's pod template rolls its pods when the tuning ConfigMap changes. */
export const CONFIG_HASH_ANNOTATION = 'perfpilot.dev/config-hash';
/**
 * REDIS_MAXMEMORY_CONFIG_KEY is the key of the Redis ConfigMap (spec.metrics.redis.configMapName)
 * holding the single line `maxmemory <n>mb`; redis.conf includes it, so after `CONFIG SET` the
 * operator persists the value there and restarted nodes keep it.
 */
export const REDIS_MAXMEMORY_CONFIG_KEY = 'maxmemory.conf';
/**
 * REDIS_CONF_KEY is the default key of a ConfigMap holding a whole redis.conf
 * (spec.metrics.redis.persist.configMap with format RedisConf), as the common Helm charts mount it.
 */
export const REDIS_CONF_KEY = 'redis.conf';
/** FIELD_MANAGER is the server-side apply field manager of every change the operator makes. */
export const FIELD_MANAGER = 'perfpilot';

/** Modes of a profile: what the operator does with a recommendation. */
export const Mode = {
  /** Observe measures and reports the current state; it recommends nothing and changes nothing. */
  Observe: 'Observe',
  /** Recommend writes recommendations into status and Events; it changes nothing. */
  Recommend: 'Recommend',
  /** Auto applies recommendations that pass the safety gate. */
  Auto: 'Auto',
} as const;
/** Mode is one of the profile modes. */
export type Mode = (typeof Mode)[keyof typeof Mode];
/** MODES lists every mode, in order of increasing authority. */
export const MODES = [Mode.Observe, Mode.Recommend, Mode.Auto] as const;
/** DEFAULT_MODE is the mode of a profile that does not name one. */
export const DEFAULT_MODE: Mode = Mode.Recommend;

/** Condition types reported in `status.conditions`, following the Kubernetes conventions. */
export const ConditionType = {
  /** Ready is True when the last reconcile completed: target found, status written. */
  Ready: 'Ready',
  /** MetricsAvailable is True when a fresh metric snapshot was taken; Unknown without a source. */
  MetricsAvailable: 'MetricsAvailable',
  /** SLOMet is True when every SLO in spec.slo holds in the last snapshot. */
  SLOMet: 'SLOMet',
  /** Progressing is True while a change is being applied or verified. */
  Progressing: 'Progressing',
  /** Degraded is True when the operator cannot do its job (target missing, apply failed, rolled back). */
  Degraded: 'Degraded',
  /** Paused is True when the paused annotation is set. */
  Paused: 'Paused',
} as const;
/** ConditionType is one of the condition types above. */
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];
/** CONDITION_TYPES lists every condition type. */
export const CONDITION_TYPES = Object.values(ConditionType);

/** Reasons of conditions and Events: CamelCase, machine-readable, one meaning each. */
export const ConditionReason = {
  /** Reconciled: the last reconcile completed. */
  Reconciled: 'Reconciled',
  /** TargetNotFound: the Deployment, HPA or tuning ConfigMap named by spec.targetRef is missing. */
  TargetNotFound: 'TargetNotFound',
  /** NoMetricsSource: spec.metrics names neither Prometheus nor Redis; nothing can be measured. */
  NoMetricsSource: 'NoMetricsSource',
  /** MetricsFresh: the last snapshot is complete and younger than the staleness limit. */
  MetricsFresh: 'MetricsFresh',
  /** MetricsStale: the newest sample is older than spec.metrics.prometheus.stalenessSeconds. */
  MetricsStale: 'MetricsStale',
  /** MetricsUnavailable: a source did not answer, or answered with empty or nonsensical values. */
  MetricsUnavailable: 'MetricsUnavailable',
  /** SLOsMet: every SLO holds. */
  SLOsMet: 'SLOsMet',
  /** SLOViolated: at least one SLO does not hold; the message names which. */
  SLOViolated: 'SLOViolated',
  /** SLOUnknown: no usable snapshot, so the SLOs cannot be judged. */
  SLOUnknown: 'SLOUnknown',
  /** Applying: a change passed the safety gate and is being applied. */
  Applying: 'Applying',
  /** Verifying: a change was applied and is watched for the verification window. */
  Verifying: 'Verifying',
  /** Stable: no change is in flight. */
  Stable: 'Stable',
  /** RolledBack: a change was followed by a worse SLO and was undone. */
  RolledBack: 'RolledBack',
  /** ApplyFailed: the API server or Redis refused a change. */
  ApplyFailed: 'ApplyFailed',
  /** FieldConflict: another field manager owns a knob's field; nothing was forced, the message names both. */
  FieldConflict: 'FieldConflict',
  /** RedisNotConverged: some Redis nodes do not hold the maxmemory set on the others; the message names them. */
  RedisNotConverged: 'RedisNotConverged',
  /**
   * KnobNotActuatable: a knob is measured and recommended but cannot be applied where it lives:
   * a pool env var set from a ConfigMap or Secret reference, or a managed Redis that refuses CONFIG
   * (renamed, or denied by ACL); the message names the object or node and why (Redis's own error).
   * The other knobs are still tuned.
   */
  KnobNotActuatable: 'KnobNotActuatable',
  /** RolloutDeferred: a pool change waits for the cooldown since the last roll of the pods; the message says until when. */
  RolloutDeferred: 'RolloutDeferred',
  /** SecretUnreadable: a Secret the profile names is missing or lacks the key. */
  SecretUnreadable: 'SecretUnreadable',
  /** BudgetExceeded: the knobs cannot satisfy the database connection budget. */
  BudgetExceeded: 'BudgetExceeded',
  /** AsExpected: nothing is wrong. */
  AsExpected: 'AsExpected',
  /** PausedByAnnotation: the paused annotation is `"true"`. */
  PausedByAnnotation: 'PausedByAnnotation',
  /** NotPaused: the paused annotation is absent or not `"true"`. */
  NotPaused: 'NotPaused',
} as const;
/** ConditionReason is one of the reasons above. */
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];

/** Knobs the operator tunes, as named in decision history and metrics. */
export const Knob = {
  PoolSize: 'poolSize',
  MaxOverflow: 'maxOverflow',
  RedisMaxmemory: 'redisMaxmemoryMiB',
  MinReplicas: 'minReplicas',
  MaxReplicas: 'maxReplicas',
  HpaTargetCpuPercent: 'hpaTargetCpuPercent',
  HpaTargetRequestsPerPod: 'hpaTargetRequestsPerPod',
} as const;
/** Knob is one of the tuned knobs. */
export type Knob = (typeof Knob)[keyof typeof Knob];
/** KNOBS lists every knob. */
export const KNOBS = Object.values(Knob);

/** What became of a decision, as recorded in `status.history`. */
export const DecisionOutcome = {
  /** Recommended: written to status only (Recommend mode, or Auto mode before acting). */
  Recommended: 'Recommended',
  /** Applied: changed on the target (Auto mode). */
  Applied: 'Applied',
  /** Blocked: the safety gate refused it; the reason says which rule. */
  Blocked: 'Blocked',
  /** RolledBack: an applied change was undone after the SLO got worse. */
  RolledBack: 'RolledBack',
} as const;
/** DecisionOutcome is one of the outcomes above. */
export type DecisionOutcome = (typeof DecisionOutcome)[keyof typeof DecisionOutcome];

/** SLO state summarized for `kubectl get pp`. */
export const SloState = { Met: 'Met', Violated: 'Violated', Unknown: 'Unknown' } as const;
/** SloState is one of the SLO states. */
export type SloState = (typeof SloState)[keyof typeof SloState];

/** MAX_HISTORY bounds `status.history`: the operator keeps the newest entries only. */
export const MAX_HISTORY = 20;

/**
 * Names of the operator's own Prometheus metrics that dashboards and alerts rely on. The operator
 * must export exactly these (labels in the comments); the toolkit's Grafana dashboard reads them.
 */
export const OperatorMetric = {
  /** Gauge, labels namespace, profile, knob (see Knob), kind ("current" | "recommended"). */
  knobValue: 'perfpilot_knob_value',
  /** Counter, labels namespace, profile, knob, outcome (see DecisionOutcome). */
  decisionsTotal: 'perfpilot_decisions_total',
  /** Counter, labels result ("success" | "error"). */
  reconcileTotal: 'perfpilot_reconcile_total',
  /** Gauge, 1 on the replica holding the lease. */
  leader: 'perfpilot_leader',
  /** Counter, labels source ("prometheus" | "redis" | "kubernetes"), signal, reason: answers that left a signal unknown. */
  metricUnknownTotal: 'perfpilot_metric_unknown_total',
} as const;
