/**
 * What a reconcile needs from outside, as one injected context (clients, sources, actuators, clock,
 * logger), so a test builds one and the operator builds the real one (make-reconcile-context.ts).
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { ObservedTarget, RedisMaxMemoryObservation } from '../actuators/index.ts';
import type { Decision, PerformanceProfile, PerformanceProfileStatus } from '../api/v1alpha1/index.ts';
import type { Measurement, RebuiltHistory } from '../metrics/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { OperatorMetrics } from '../telemetry/metrics.ts';
import type { TuningHistory } from '../tuning/types.ts';
import type { KnobActuators } from './act.ts';
import type { EventRecorder, ProfileEvent } from './events.ts';

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
  /** rebuildHistory reads past snapshots and the forecast’s rate history back from Prometheus (on start and on taking the lease). */
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
