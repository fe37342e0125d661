/**
 * Reconcile of one PerformanceProfile, in the six steps of design.md, top to bottom with early
 * returns: fetch (gone means stop quietly), finalize when deleted, ensure the take-over record,
 * then observe, measure, decide (the engine, whose safety gate is the guard step), act per mode,
 * report. Every I/O goes through the injected {@link ReconcileContext}, so a test builds one.
 */
import {
  ApiException,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import {
  apiTargetReader,
  applyKnobs,
  applyPoolSettings,
  applyRedisMaxMemory,
  applyReplicaBounds,
  makeTargetClients,
  type ObservedTarget,
  observeRedisMaxMemory,
  observeTarget,
  type RedisMaxMemoryObservation,
  type RedisTarget,
  type SecretReader,
  summarizeMaxMemoryResult,
  type TargetReader,
} from '../actuators/index.ts';
import { SecretKeyMissingError } from '../actuators/secrets.ts';
import { readIfExists } from '../actuators/server-side-apply.ts';
import {
  ConditionReason,
  ConditionType,
  configMapNameOf,
  type Decision,
  FINALIZER,
  GROUP,
  hpaNameOf,
  isPaused,
  KNOBS,
  type KnobValues,
  LAST_CHANGE_ANNOTATION,
  Mode,
  ORIGINAL_VALUES_ANNOTATION,
  type PerformanceProfile,
  type PerformanceProfileStatus,
  PLURAL,
  VERSION,
} from '../api/v1alpha1/index.ts';
import {
  hpaStatusOf,
  type Measurement,
  type MetricSources,
  measureSnapshot,
  type RebuiltHistory,
  rebuildHistory,
} from '../metrics/index.ts';
import type { RedisConnections } from '../redis/connections.ts';
import { patchJson } from '../runtime/kube-http.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { OperatorMetrics } from '../telemetry/metrics.ts';
import { evaluate, recordEvaluation } from '../tuning/evaluate.ts';
import { sloMet } from '../tuning/safety-gate.ts';
import { tuningSpecFromProfile } from '../tuning/tuning-spec-from-profile.ts';
import type { Evaluation, MetricSnapshot, TuningHistory, TuningSpec } from '../tuning/types.ts';
import { type ActOutcome, actOnDecisions, changesOf, convergeRedis, type KnobActuators } from './act.ts';
import { setCondition } from './conditions.ts';
import { PermanentError } from './error-policy.ts';
import type { EventRecorder, ProfileEvent } from './events.ts';
import {
  appliedChangesFromStatus,
  changeRecord,
  completeKnobs,
  measureOutcome,
  sloVerdict,
  snapshotStatus,
  targetEnvironment,
  unrecordedChanges,
  withChanges,
} from './findings.ts';
import { desiredStatus, knobsSummary, type ReconcileFindings, statusDiffers } from './status.ts';

/** What the observe step found: the target's objects and knobs, and maxmemory on every Redis node. */
export interface Observation extends ObservedTarget {
  /** redis is maxmemory as every Redis node answered; absent without spec.metrics.redis. */
  readonly redis?: RedisMaxMemoryObservation;
  /** redisConfigMap is spec.metrics.redis.configMapName as read (it holds maxmemory's change record). */
  readonly redisConfigMap?: V1ConfigMap;
}

/** Changes made whose status write failed (the API server went away): written by the next reconcile. */
export interface Unreported {
  readonly applied: readonly Decision[];
  readonly events: readonly ProfileEvent[];
}

/** Reads and writes of PerformanceProfiles. */
export interface ProfileStore {
  /** get reads a profile as stored now; undefined when it is gone. */
  get(namespace: string, name: string): Promise<PerformanceProfile | undefined>;
  /** patchMetadata merge-patches finalizers and annotations, conditional on the profile's resourceVersion. */
  patchMetadata(
    profile: PerformanceProfile,
    metadata: Pick<PerformanceProfile['metadata'], 'finalizers' | 'annotations'>,
  ): Promise<PerformanceProfile>;
  /** writeStatus writes status, conditional on the profile's resourceVersion (409 when it moved). */
  writeStatus(profile: PerformanceProfile, status: PerformanceProfileStatus): Promise<void>;
}

/** Everything a reconcile needs, injected so tests can build one. */
export interface ReconcileContext {
  /** profile returns the cached profile for `namespace/name`, or undefined when it is gone. */
  readonly profile: (key: string) => PerformanceProfile | undefined;
  readonly store: ProfileStore;
  /** observe is step 1: the target's knobs (HPA, tuning ConfigMap) and Redis maxmemory. */
  readonly observe: (profile: PerformanceProfile) => Promise<Observation>;
  /** measure is step 2: a snapshot from Prometheus and Redis, or the signals that are unknown. */
  readonly measure: (profile: PerformanceProfile, observed: Observation) => Promise<Measurement>;
  /** rebuildHistory reads past snapshots back from Prometheus (on start and on taking the lease). */
  readonly rebuildHistory: (profile: PerformanceProfile, nowSeconds: number) => Promise<RebuiltHistory>;
  readonly actuators: KnobActuators;
  /**
   * histories holds the engine's history per profile key, in memory only: rebuilt from status
   * history and Prometheus the first time a process (or a new leader) reconciles a profile.
   */
  readonly histories: Map<string, TuningHistory>;
  /** unreported holds, per profile key, the changes whose status write failed, until one succeeds. */
  readonly unreported: Map<string, Unreported>;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly metrics?: OperatorMetrics;
  /** now is the clock; tests pass a fixed one. */
  readonly now: () => Date;
}

/** What a reconcile asks of the work queue. */
export interface ReconcileOutcome {
  /** requeueAfterMs schedules the next evaluation. */
  readonly requeueAfterMs?: number;
}

/** How long an unreadable Secret waits before it is read again: the operator does not watch Secrets. */
const SECRET_RECHECK_SECONDS = 300;

/**
 * classifyingSecretReader reads Secrets by name and turns a missing Secret or key into a
 * PermanentError naming both (retrying cannot help until someone creates it); other failures
 * (the API server unreachable) stay temporary. The value itself is never in any message.
 */
export function classifyingSecretReader(read: SecretReader): SecretReader {
  return async (ref) => {
    try {
      return await read(ref);
    } catch (err) {
      // An unreachable API server is no missing Secret: that stays temporary, and is retried.
      const missing =
        err instanceof SecretKeyMissingError ||
        (err instanceof ApiException && (err.code === 404 || err.code === 403));
      if (!missing) throw err;
      throw new PermanentError(
        ConditionReason.SecretUnreadable,
        `Secret ${ref.namespace}/${ref.name} key "${ref.key}" cannot be read${err instanceof ApiException ? ` (HTTP ${err.code})` : ''}`,
        { recheckAfterSeconds: SECRET_RECHECK_SECONDS, cause: err instanceof ApiException ? undefined : err },
      );
    }
  };
}

/** redisTargetOf is where the profile's Redis is, for the maxmemory actuator and observer. */
export function redisTargetOf(profile: PerformanceProfile): RedisTarget | undefined {
  const redis = profile.spec.metrics.redis;
  if (!redis) return undefined;
  return {
    namespace: profile.metadata.namespace ?? 'default',
    endpoints: redis.endpoints,
    ...(redis.passwordSecretRef ? { passwordSecretRef: redis.passwordSecretRef } : {}),
    ...(redis.configMapName ? { configMapName: redis.configMapName } : {}),
    ...(redis.tls ? { tls: true } : {}),
    ...(redis.tls?.caBundleSecretRef ? { caBundleSecretRef: redis.tls.caBundleSecretRef } : {}),
  };
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** STATUS_WRITE_TIMEOUT_MS bounds one status write; past it the reconcile fails and is retried. */
const STATUS_WRITE_TIMEOUT_MS = 30_000;

/** The parts of the context the operator builds itself. */
export type ReconcileParts = Pick<ReconcileContext, 'profile' | 'events' | 'logger' | 'metrics'> & {
  /** sources are the metric sources, built once per process on the shared Redis connections. */
  readonly sources: MetricSources;
  /** redis is the one Redis connection pool, shared by the sources and the maxmemory actuator. */
  readonly redis: RedisConnections;
  /** readSecret reads Secrets by name (see classifyingSecretReader). */
  readonly readSecret: SecretReader;
  /** targets reads the target's objects for the observe step. @default the API server, one GET each */
  readonly targets?: TargetReader;
};

/** makeReconcileContext wires the real clients, sources and actuators from a kubeconfig. */
export function makeReconcileContext(kubeConfig: KubeConfig, parts: ReconcileParts): ReconcileContext {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const clients = makeTargetClients(kubeConfig);
  const targets = parts.targets ?? apiTargetReader(clients);
  const actuatorContext = { clients, redis: parts.redis, readSecret: parts.readSecret };
  const now = () => new Date();
  const at = (profile: PerformanceProfile) => ({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace: profile.metadata.namespace ?? 'default',
    name: profile.metadata.name ?? '',
  });
  const redisTarget = (profile: PerformanceProfile) => {
    const target = redisTargetOf(profile);
    if (!target) throw new RangeError('spec.metrics.redis is not set: maxmemory has no nodes to go to');
    return target;
  };
  return {
    profile: parts.profile,
    events: parts.events,
    logger: parts.logger,
    ...(parts.metrics ? { metrics: parts.metrics } : {}),
    now,
    histories: new Map(),
    unreported: new Map(),
    store: {
      get: async (namespace, name) => {
        try {
          return (await custom.getNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            namespace,
            name,
          })) as PerformanceProfile;
        } catch (err) {
          if (err instanceof ApiException && err.code === 404) return undefined;
          throw err;
        }
      },
      patchMetadata: async (profile, metadata) =>
        (await custom.patchNamespacedCustomObject(
          {
            ...at(profile),
            body: { metadata: { resourceVersion: profile.metadata.resourceVersion, ...metadata } },
          },
          mergePatch,
        )) as PerformanceProfile,
      writeStatus: async (profile, status) => {
        const { namespace, name } = at(profile);
        try {
          await patchJson(
            kubeConfig,
            `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}/${encodeURIComponent(name)}/status`,
            // A merge patch replaces the status's lists whole; the conditions were computed from
            // the cached status, so the resourceVersion guards against writing over a newer one.
            { metadata: { resourceVersion: profile.metadata.resourceVersion }, status },
            PatchStrategy.MergePatch,
            STATUS_WRITE_TIMEOUT_MS,
          );
        } catch (err) {
          if (err instanceof ApiException && err.code === 404) return;
          throw err;
        }
      },
    },
    observe: async (profile) => {
      const target = await observeTarget(targets, profile);
      const redisAt = redisTargetOf(profile);
      if (!redisAt) return target;
      const configMapName = redisAt.configMapName;
      const [redis, redisConfigMap] = await Promise.all([
        observeRedisMaxMemory(actuatorContext, redisAt),
        configMapName
          ? readIfExists(() =>
              clients.core.readNamespacedConfigMap({ namespace: redisAt.namespace, name: configMapName }),
            )
          : Promise.resolve(undefined),
      ]);
      const divergent = redis.divergent
        ? [
            `Redis nodes disagree on maxmemory: ${redis.nodes.map((n) => `${n.address}=${n.bytes}`).join(', ')}`,
          ]
        : [];
      return {
        ...target,
        problems: [...target.problems, ...divergent],
        current: {
          ...target.current,
          ...(redis.maxMemoryMiB !== undefined ? { redisMaxmemoryMiB: redis.maxMemoryMiB } : {}),
        },
        redis,
        ...(redisConfigMap ? { redisConfigMap } : {}),
      };
    },
    measure: async (profile, observed) =>
      await measureSnapshot(profile, parts.sources, () => now().getTime() / 1000, {
        ...(observed.current.poolSize !== undefined && observed.current.maxOverflow !== undefined
          ? { poolCapacity: observed.current.poolSize + observed.current.maxOverflow }
          : {}),
        ...(observed.hpa ? { hpa: hpaStatusOf(observed.hpa) } : {}),
      }),
    rebuildHistory: async (profile, nowSeconds) => await rebuildHistory(profile, parts.sources, nowSeconds),
    actuators: {
      replicaBounds: async (profile, bounds, record) =>
        await applyReplicaBounds(
          actuatorContext,
          { namespace: profile.metadata.namespace ?? 'default', name: hpaNameOf(profile.spec.targetRef) },
          bounds,
          record === undefined ? {} : { record },
        ),
      poolSettings: async (profile, settings, guard, record) =>
        await applyPoolSettings(
          actuatorContext,
          {
            namespace: profile.metadata.namespace ?? 'default',
            deployment: profile.spec.targetRef.name,
            configMap: configMapNameOf(profile.spec.targetRef),
          },
          settings,
          guard,
          record === undefined ? {} : { record },
        ),
      redisMaxMemory: async (profile, mib, tuning, record) =>
        await applyRedisMaxMemory(
          actuatorContext,
          redisTarget(profile),
          mib,
          { tuning },
          record === undefined ? {} : { record },
        ),
      restore: async (profile, original, at) => {
        const notes: string[] = [];
        const changed = await applyKnobs(clients, profile, original, at);
        notes.push(
          changed.length > 0
            ? `restored ${changed.join(', ')}`
            : 'HPA and pool already at their original values',
        );
        const target = redisTargetOf(profile);
        if (target && original.redisMaxmemoryMiB !== undefined) {
          const result = await applyRedisMaxMemory(actuatorContext, target, original.redisMaxmemoryMiB, {
            tuning: tuningSpecFromProfile(profile.spec),
          });
          notes.push(summarizeMaxMemoryResult(result));
        }
        return notes;
      },
    },
  };
}

/** reconcileProfile brings one profile's target and status in line with its spec. */
export async function reconcileProfile(ctx: ReconcileContext, key: string): Promise<ReconcileOutcome> {
  let profile = ctx.profile(key);
  if (!profile) {
    ctx.histories.delete(key);
    ctx.unreported.delete(key);
    return {};
  }
  const log = ctx.logger.child({ profile: key });
  if (profile.metadata.deletionTimestamp) {
    await finalize(ctx, profile, log);
    ctx.histories.delete(key);
    ctx.unreported.delete(key);
    return {};
  }
  const paused = isPaused(profile.metadata);

  // 1. observe
  const observed = await ctx.observe(profile);
  const complete = observed.missing.length === 0;
  // Only Auto changes knobs, so only Auto has originals to restore: in Observe and Recommend a new
  // profile costs one status write, and switching to Auto records the knobs as they are then.
  const takesOver = profile.spec.mode === Mode.Auto;
  if (takesOver && complete && observed.problems.length === 0 && knowsMaxMemory(profile, observed)) {
    // Later writes go against the version the take-over produced, not the cached one.
    profile = await ensureTakenOver(ctx, profile, observed, log);
  }
  // 2. measure: only a complete target has knobs to measure against, and only a named source has
  // anything to say (a snapshot of nothing, stamped with the time, would rewrite status each interval).
  const measurement =
    complete && namesMetricSource(profile) ? await ctx.measure(profile, observed) : undefined;
  const measured = measureOutcome(profile, measurement);
  if (measurement && !measurement.snapshot) {
    log.info({ unknown: measurement.unknown.map((u) => u.signal) }, 'skipped: metrics unknown');
  }
  // 3. decide, with 4. guard: the engine's safety gate runs inside evaluate. Its clock is read
  // after measuring: a snapshot taken after `now` would be from the future, and fail static.
  const now = ctx.now();
  const nowSeconds = now.getTime() / 1000;
  const spec = tuningSpecFromProfile(profile.spec, targetEnvironment(observed.configMap, observed.hpa));
  // Changes made whose status was never written: by this process (its status write failed), or
  // by one that stopped in between (the record on the objects they were applied to).
  const unrecorded = recoverUnrecorded(ctx, profile, key, observed, log);
  const rebuilt = await historyOf(ctx, profile, key, nowSeconds, log);
  const history = { ...rebuilt, changes: withChanges(rebuilt.changes, unrecorded.applied) };
  const auto = profile.spec.mode === Mode.Auto && !paused;
  // A node that missed the last maxmemory (down during the apply) gets it again before deciding.
  const converged = auto && complete ? await convergeRedis(ctx.actuators, profile, spec, observed.redis) : {};
  const current = {
    ...observed.current,
    ...(converged.maxMemoryMiB !== undefined ? { redisMaxmemoryMiB: converged.maxMemoryMiB } : {}),
  };
  const decided = decide(spec, measurement?.snapshot, current, history, nowSeconds);
  // 5. act
  const snapshot = measurement ? snapshotStatus(measurement, now) : undefined;
  const slo = sloVerdict(profile, measurement);
  let acted: ActOutcome = { applied: [], appliedKnobs: new Set(), events: [] };
  if (decided.evaluation && auto && snapshot && decided.snapshot) {
    acted = await actOnDecisions(ctx.actuators, profile, spec, decided.evaluation, {
      snapshot,
      sloMetBefore: sloMet(spec, decided.snapshot),
      now,
    });
  }
  if (decided.evaluation) {
    const made = {
      ...decided.evaluation,
      decisions: decided.evaluation.decisions.filter((d) => acted.appliedKnobs.has(d.knob)),
    };
    ctx.histories.set(
      key,
      recordEvaluation(spec, history, decided.snapshot, made, nowSeconds, acted.applied.length > 0),
    );
  }
  if (decided.evaluation) {
    log.debug(
      {
        decisions: decided.evaluation.decisions.map(
          (d) => `${d.knob} ${d.from}→${d.to} ${d.verdict}: ${d.reason}`,
        ),
      },
      'decided',
    );
  }
  for (const entry of acted.applied)
    log.info({ knob: entry.knob, from: entry.from, to: entry.to }, 'applied');
  // 6. report
  const recommends = profile.spec.mode !== Mode.Observe && !paused && decided.evaluation !== undefined;
  const findings: ReconcileFindings = {
    paused,
    observed: { ...observed, current: { ...current, ...appliedValues(acted) } },
    measured,
    ...(slo ? { slo } : {}),
    ...(snapshot ? { snapshot } : {}),
    ...(recommends && decided.evaluation ? { recommended: { ...decided.evaluation.next } } : {}),
    recovered: unrecorded.applied,
    applied: acted.applied,
    ...progressingOf(profile, acted, now),
    ...degradedOf(
      acted,
      converged.degraded,
      decided.problem && auto && measurement?.snapshot ? decided.problem : undefined,
    ),
  };
  const events = [...unrecorded.events, ...(converged.event ? [converged.event] : []), ...acted.events];
  if (profile.spec.mode === Mode.Recommend && !paused && decided.evaluation) {
    const event = recommendationEvent(profile, decided.evaluation);
    if (event) events.push(event);
  }
  const made = [...unrecorded.applied, ...acted.applied];
  // Kept until status holds them: a failed write leaves them for the next reconcile.
  if (made.length > 0) ctx.unreported.set(key, { applied: made, events });
  await report(ctx, profile, findings, events, decided.evaluation, log, () => ctx.unreported.delete(key));
  return { requeueAfterMs: profile.spec.policy.evaluationIntervalSeconds * 1000 };
}

/** namesMetricSource tells whether spec.metrics names Prometheus or Redis. */
function namesMetricSource(profile: PerformanceProfile): boolean {
  return profile.spec.metrics.prometheus !== undefined || profile.spec.metrics.redis !== undefined;
}

/** knowsMaxMemory: without a Redis source there is nothing to know; with one, every node answered alike. */
function knowsMaxMemory(profile: PerformanceProfile, observed: Observation): boolean {
  return !profile.spec.metrics.redis || observed.current.redisMaxmemoryMiB !== undefined;
}

/**
 * recoverUnrecorded finds the changes that were made and are missing from status history: those
 * this process kept after a failed status write (with their Events), and those whose record
 * (LAST_CHANGE_ANNOTATION) the target's objects hold, from an operator that stopped between the
 * apply and the status write (with an Event saying so).
 */
function recoverUnrecorded(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  key: string,
  observed: Observation,
  log: Logger,
): Unreported {
  const pending = ctx.unreported.get(key);
  const fromObjects = [observed.hpa, observed.configMap, observed.deployment, observed.redisConfigMap].map(
    (o) => o?.metadata?.annotations?.[LAST_CHANGE_ANNOTATION],
  );
  const mine = pending ? unrecordedChanges(profile, [changeRecord(profile, pending.applied)]) : [];
  const found = unrecordedChanges(profile, fromObjects).filter(
    (d) => !mine.some((m) => m.knob === d.knob && m.time === d.time),
  );
  if (found.length > 0)
    log.warn({ changes: found.map((d) => `${d.knob} ${d.from}→${d.to} at ${d.time}`) }, 'recovered changes');
  const applied = [...mine, ...found].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  const events: ProfileEvent[] = [
    ...(mine.length > 0 && pending ? pending.events : []),
    ...found.map(
      (d): ProfileEvent => ({
        type: 'Normal',
        reason: d.outcome,
        action: 'Tune',
        note: `${d.knob} ${d.from} → ${d.to} at ${d.time}, recorded late (the operator stopped before writing status): ${d.reason}`,
      }),
    ),
  ];
  return { applied, events };
}

/** What the decide step produced. */
interface Decided {
  readonly evaluation?: Evaluation;
  readonly snapshot?: MetricSnapshot;
  /** problem says why nothing was decided although metrics were usable. */
  readonly problem?: string;
}

/** decide runs the engine (and its safety gate) when there is a snapshot and every knob is known. */
export function decide(
  spec: TuningSpec,
  snapshot: MetricSnapshot | undefined,
  current: KnobValues,
  history: TuningHistory,
  nowSeconds: number,
): Decided {
  if (!snapshot) return {};
  const knobs = completeKnobs(current);
  if ('missing' in knobs)
    return { snapshot, problem: `not tuned: ${knobs.missing.join(', ')} could not be read` };
  return { snapshot, evaluation: evaluate(spec, snapshot, knobs.knobs, history, nowSeconds) };
}

/**
 * historyOf is the engine's history of a profile: kept in memory between reconciles; the first
 * time this process reconciles the profile, rebuilt from status history (the applied changes,
 * which cooldowns count from) and Prometheus (past snapshots), so a restart applies nothing twice.
 */
async function historyOf(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  key: string,
  nowSeconds: number,
  log: Logger,
): Promise<TuningHistory> {
  const known = ctx.histories.get(key);
  if (known) return known;
  const changes = appliedChangesFromStatus(profile.status?.history ?? []);
  let snapshots: readonly MetricSnapshot[] = [];
  if (profile.spec.metrics.prometheus) {
    try {
      const rebuilt = await ctx.rebuildHistory(profile, nowSeconds);
      snapshots = rebuilt.snapshots;
      log.info(
        {
          changes: changes.length,
          snapshots: snapshots.length,
          unknown: rebuilt.unknown.map((u) => u.signal),
        },
        'rebuilt history',
      );
    } catch (err) {
      // Past snapshots only sharpen estimates; the applied changes, which keep changes apart, are in status.
      log.warn(
        { error: err instanceof Error ? err.message : String(err) },
        'history not rebuilt from Prometheus',
      );
    }
  }
  const history: TuningHistory = { changes, snapshots };
  ctx.histories.set(key, history);
  return history;
}

function appliedValues(acted: ActOutcome): KnobValues {
  return Object.fromEntries(acted.applied.map((d) => [d.knob, d.to]));
}

/** progressingOf: a deferred roll, else a change still in its verification window. */
function progressingOf(
  profile: PerformanceProfile,
  acted: ActOutcome,
  now: Date,
): Partial<ReconcileFindings> {
  if (acted.progressing) return { progressing: acted.progressing };
  const newest = [...(profile.status?.history ?? []), ...acted.applied].at(-1);
  if (!newest || (newest.outcome !== 'Applied' && newest.outcome !== 'RolledBack')) return {};
  const until = Date.parse(newest.time) + profile.spec.policy.verificationWindowSeconds * 1000;
  if (!(until > now.getTime())) return {};
  return {
    progressing: {
      reason: ConditionReason.Verifying,
      message: `${newest.knob} ${newest.from} → ${newest.to} is verified until ${new Date(until).toISOString()}: a worse SLO by then rolls it back`,
    },
  };
}

function degradedOf(
  acted: ActOutcome,
  convergence: ActOutcome['degraded'],
  problem: string | undefined,
): Partial<ReconcileFindings> {
  const verdicts = [convergence, acted.degraded].filter((v) => v !== undefined);
  if (verdicts.length === 0) {
    return problem ? { degraded: { reason: ConditionReason.ApplyFailed, message: problem } } : {};
  }
  const [first] = verdicts;
  return first
    ? { degraded: { reason: first.reason, message: verdicts.map((v) => v.message).join('; ') } }
    : {};
}

/** recommendationEvent says what Recommend mode would change and why, when that differs from the last recommendation. */
function recommendationEvent(profile: PerformanceProfile, evaluation: Evaluation): ProfileEvent | undefined {
  const changes = changesOf(evaluation);
  if (changes.length === 0) return undefined;
  const previous = profile.status?.recommended;
  if (previous && KNOBS.every((k) => previous[k] === evaluation.next[k])) return undefined;
  return {
    type: 'Normal',
    reason: 'Recommended',
    action: 'Recommend',
    note: changes.map((d) => `${d.knob} ${d.from} → ${d.to}: ${d.reason}`).join('; '),
  };
}

/** ensureTakenOver records the knobs' original values and adds the finalizer, once; returns the profile as stored. */
async function ensureTakenOver(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  observed: Observation,
  log: Logger,
): Promise<PerformanceProfile> {
  if (profile.metadata.finalizers?.includes(FINALIZER)) return profile;
  const original = JSON.stringify(observed.current);
  const updated = await ctx.store.patchMetadata(profile, {
    finalizers: [...(profile.metadata.finalizers ?? []), FINALIZER],
    annotations: { [ORIGINAL_VALUES_ANNOTATION]: original },
  });
  log.info({ original: observed.current }, 'took over target');
  await ctx.events.record(profile, {
    type: 'Normal',
    reason: 'TookOver',
    action: 'Observe',
    note: `recorded the original knobs (${knobsSummary(observed.current)}); they are restored when this profile is deleted in Auto mode`,
  });
  return updated;
}

/** finalize restores the original knobs (Auto mode only), maxmemory included, and removes the finalizer. */
async function finalize(ctx: ReconcileContext, profile: PerformanceProfile, log: Logger): Promise<void> {
  if (!profile.metadata.finalizers?.includes(FINALIZER)) return;
  const originalJson = profile.metadata.annotations?.[ORIGINAL_VALUES_ANNOTATION];
  if (profile.spec.mode === Mode.Auto && originalJson) {
    const original = parseKnobValues(originalJson);
    const observed = await ctx.observe(profile);
    if (original && observed.missing.length === 0) {
      const notes = await ctx.actuators.restore(profile, original, ctx.now());
      log.info({ original, notes }, 'restored original knobs');
      await ctx.events.record(profile, {
        type: 'Normal',
        reason: 'Restored',
        action: 'Finalize',
        note: `original knobs ${knobsSummary(original)}: ${notes.join('; ')}`,
      });
    } else {
      log.warn({ missing: observed.missing }, 'original knobs not restored');
      await ctx.events.record(profile, {
        type: 'Warning',
        reason: 'RestoreSkipped',
        action: 'Finalize',
        note: original
          ? `target gone (${observed.missing.join(', ')}): nothing to restore`
          : `annotation ${ORIGINAL_VALUES_ANNOTATION} is unreadable: nothing restored`,
      });
    }
  }
  await ctx.store.patchMetadata(profile, {
    finalizers: (profile.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
  });
  ctx.metrics?.knobValue.remove({ namespace: profile.metadata.namespace, profile: profile.metadata.name });
  log.info('finalized');
}

/** parseKnobValues reads the original-values annotation, keeping only whole numbers ≥ 0. */
export function parseKnobValues(json: string): KnobValues | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const values: KnobValues = {};
  for (const knob of KNOBS) {
    const v = (parsed as Record<string, unknown>)[knob];
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) values[knob] = v;
  }
  return values;
}

/**
 * report writes status when it changed (history entries are never lost to a write conflict: the
 * status is computed again on the stored profile), records the Events, and sets the operator's
 * knob gauges and decision counters.
 */
async function report(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  findings: ReconcileFindings,
  events: readonly ProfileEvent[],
  evaluation: Evaluation | undefined,
  log: Logger,
  onRecorded: () => void,
): Promise<void> {
  const labels = { namespace: profile.metadata.namespace ?? '', profile: profile.metadata.name ?? '' };
  for (const [knob, value] of Object.entries(findings.observed.current)) {
    if (value !== undefined) ctx.metrics?.knobValue.set({ ...labels, knob, kind: 'current' }, value);
  }
  for (const [knob, value] of Object.entries(findings.recommended ?? {})) {
    if (value !== undefined) ctx.metrics?.knobValue.set({ ...labels, knob, kind: 'recommended' }, value);
  }
  for (const entry of findings.applied ?? []) {
    ctx.metrics?.decisionsTotal.inc({ ...labels, knob: entry.knob, outcome: entry.outcome });
  }
  if (evaluation && findings.recommended && (findings.applied ?? []).length === 0) {
    for (const d of changesOf(evaluation))
      ctx.metrics?.decisionsTotal.inc({ ...labels, knob: d.knob, outcome: 'Recommended' });
  }
  const status = desiredStatus(profile, findings, ctx.now());
  if (statusDiffers(profile.status, status)) {
    try {
      await ctx.store.writeStatus(profile, status);
    } catch (err) {
      const made = (findings.applied ?? []).length + (findings.recovered ?? []).length;
      if (!(err instanceof ApiException && err.code === 409) || made === 0) throw err;
      // Changes were made: their history entries must land, on top of the status as stored now.
      const stored = await ctx.store.get(
        profile.metadata.namespace ?? 'default',
        profile.metadata.name ?? '',
      );
      if (stored) await ctx.store.writeStatus(stored, desiredStatus(stored, findings, ctx.now()));
    }
    log.info({ observedGeneration: status.observedGeneration }, 'status updated');
  }
  onRecorded();
  for (const event of events) {
    if (event.type === 'Warning') log.warn({ reason: event.reason, note: event.note }, 'not applied');
    await ctx.events.record(profile, event);
  }
  await recordTransitions(ctx, profile, profile.status, status);
}

/** reconcileFailure says why a reconcile stopped for good: Degraded=True with the error policy's reason. */
export async function reconcileFailure(
  ctx: ReconcileContext,
  key: string,
  reason: string,
  message: string,
): Promise<void> {
  const profile = ctx.profile(key);
  if (!profile) return;
  await ctx.events.record(profile, { type: 'Warning', reason, action: 'Reconcile', note: message });
  const conditions = setCondition(
    profile.status?.conditions ?? [],
    { type: ConditionType.Degraded, status: 'True', reason, message },
    profile.metadata.generation ?? 0,
    ctx.now(),
  );
  const status = { ...profile.status, conditions };
  if (statusDiffers(profile.status, status)) await ctx.store.writeStatus(profile, status);
}

/** recordTransitions emits one Event per condition whose status changed, and one for trouble on first contact. */
async function recordTransitions(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  before: PerformanceProfileStatus | undefined,
  after: PerformanceProfileStatus,
): Promise<void> {
  for (const condition of after.conditions ?? []) {
    const previous = before?.conditions?.find((c) => c.type === condition.type);
    if (previous?.status === condition.status) continue;
    const bad =
      (condition.type === 'Degraded' && condition.status === 'True') ||
      (condition.type === 'Ready' && condition.status === 'False');
    // A profile's first status is in its conditions already; only trouble is worth an Event then.
    // With many profiles, an Event per first condition would be most of the operator's writes.
    if (!previous && !bad) continue;
    await ctx.events.record(profile, {
      type: bad ? 'Warning' : 'Normal',
      reason: condition.reason,
      action: 'Reconcile',
      note: `${condition.type}=${condition.status}: ${condition.message || condition.reason}`,
    });
  }
}
