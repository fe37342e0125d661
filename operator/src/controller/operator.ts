/**
 * The running operator: informers over PerformanceProfiles and their targets (Deployments, HPAs,
 * tuning ConfigMaps) feed one work queue, and the observe step reads the targets from those caches
 * rather than with a GET each; workers reconcile only while this replica holds the lease; every
 * replica keeps warm caches and serves /healthz, /readyz and /metrics.
 */
import type {
  KubeConfig,
  V1ConfigMap,
  V1Deployment,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import { kubeSecretReader } from '../actuators/index.ts';
import {
  configMapNameOf,
  GROUP,
  hpaNameOf,
  type PerformanceProfile,
  PLURAL,
  VERSION,
} from '../api/v1alpha1/index.ts';
import { createMetricSources } from '../metrics/index.ts';
import { RedisConnections } from '../redis/connections.ts';
import { type Clock, systemClock } from '../runtime/clock.ts';
import { runWorkers, type Workers } from '../runtime/controller-loop.ts';
import { startHttpServer } from '../runtime/http-server.ts';
import { type InformedObject, Informer, objectKey, withoutManagedFields } from '../runtime/informer.ts';
import { LeaderElector } from '../runtime/leader-election.ts';
import { pooled } from '../runtime/pooled-kube-config.ts';
import { WorkQueue } from '../runtime/workqueue.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createOperatorMetrics, type OperatorMetrics } from '../telemetry/metrics.ts';
import { errorMessage, errorPolicy } from './error-policy.ts';
import { createEventRecorder } from './events.ts';
import { classifyingSecretReader, makeReconcileContext } from './make-reconcile-context.ts';
import { reconcileProfile } from './reconcile.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import { reconcileFailure } from './report.ts';

/** Leader election settings; see coordination.k8s.io Leases. */
export interface LeaderElectionOptions {
  /** namespace of the Lease. */
  readonly namespace: string;
  /** name of the Lease. @default "perfpilot-operator" */
  readonly name?: string;
  /** leaseDurationMs: how long a lease is valid without renewal. @default 15000 */
  readonly leaseDurationMs?: number;
  /** renewDeadlineMs: how long the leader keeps trying to renew before it gives up. @default 10000 */
  readonly renewDeadlineMs?: number;
  /** retryPeriodMs: time between attempts to acquire or renew. @default 2000 */
  readonly retryPeriodMs?: number;
}

/** Options of startOperator. */
export interface OperatorOptions {
  readonly kubeConfig: KubeConfig;
  /** namespaces to watch; empty means all namespaces (WATCH_NAMESPACE). @default [] */
  readonly namespaces?: readonly string[];
  /** identity of this replica in the Lease and in Events (the pod name). */
  readonly identity: string;
  /** leaderElection settings, or false to act without a lease (one replica only). */
  readonly leaderElection: LeaderElectionOptions | false;
  /** metricsPort serves /healthz, /readyz and /metrics; 0 picks a free port. @default 8080 */
  readonly metricsPort?: number;
  /** metricsHost is the address the HTTP server binds. @default "0.0.0.0" */
  readonly metricsHost?: string;
  /** concurrency is the number of profiles reconciled at once. @default 4 */
  readonly concurrency?: number;
  readonly logger: Logger;
  /** clock drives every timer of the runtime: informers, work queue, workers, leader election, Events. @default systemClock */
  readonly clock?: Clock;
  /** onLostLeadership is called when this replica loses the lease; main exits the process. */
  readonly onLostLeadership?: () => void;
}

/** A started operator. */
export interface RunningOperator {
  readonly metrics: OperatorMetrics;
  /** metricsPort is the port /metrics is served on. */
  readonly metricsPort: number;
  readonly profiles: Informer<PerformanceProfile>;
  isLeader(): boolean;
  /** stop takes no new work, finishes the reconcile in flight, releases the lease and closes. */
  stop(): Promise<void>;
}

/** Changes that need a reconcile: not our own status writes, which only move resourceVersion. */
function needsReconcile(profile: PerformanceProfile, old: PerformanceProfile | undefined): boolean {
  if (!old) return true;
  const m = profile.metadata;
  const o = old.metadata;
  return (
    m.generation !== o.generation ||
    m.deletionTimestamp !== o.deletionTimestamp ||
    JSON.stringify(m.annotations ?? {}) !== JSON.stringify(o.annotations ?? {}) ||
    JSON.stringify(m.finalizers ?? []) !== JSON.stringify(o.finalizers ?? [])
  );
}

/** startOperator starts caches, the HTTP server and leader election; workers start with the lease. */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  // One connection pool for all API clients (client-node 2.0 alone opens one per request).
  const kubeConfig = pooled(options.kubeConfig, clock);
  const namespaces = options.namespaces ?? [];
  const metrics = createOperatorMetrics();
  // One list+watch per resource and namespace, shared by every profile; the stores keep objects
  // without managedFields.
  const informerOf = <T extends InformedObject>(group: string, version: string, plural: string) =>
    new Informer<T>({
      kubeConfig,
      group,
      version,
      plural,
      namespaces,
      transform: withoutManagedFields,
      clock,
      metrics,
      logger,
    });
  const profiles = informerOf<PerformanceProfile>(GROUP, VERSION, PLURAL);
  const deployments = informerOf<V1Deployment>('apps', 'v1', 'deployments');
  const hpas = informerOf<V2HorizontalPodAutoscaler>('autoscaling', 'v2', 'horizontalpodautoscalers');
  const configMaps = informerOf<V1ConfigMap>('', 'v1', 'configmaps');
  const informers = [profiles, deployments, hpas, configMaps];
  const queue = new WorkQueue({ name: 'performanceprofiles', metrics, clock });
  profiles.on('add', (p) => queue.add(objectKey(p)));
  profiles.on('update', (p, old) => {
    if (needsReconcile(p, old)) queue.add(objectKey(p));
  });
  profiles.on('delete', (p) => queue.add(objectKey(p)));
  // A change of a target's object (someone edits the HPA's bounds or the pool, or creates a
  // missing Deployment) re-evaluates the profiles that tune it.
  const enqueueProfilesOf =
    (nameOf: (profile: PerformanceProfile) => string | undefined) =>
    (obj: { metadata?: InformedObject['metadata'] }) => {
      for (const p of profiles.list()) {
        if (p.metadata.namespace === obj.metadata?.namespace && nameOf(p) === obj.metadata?.name) {
          queue.add(objectKey(p));
        }
      }
    };
  for (const [informer, nameOf] of [
    [deployments, (p: PerformanceProfile) => p.spec.targetRef.name],
    [hpas, (p: PerformanceProfile) => hpaNameOf(p.spec.targetRef)],
    [configMaps, (p: PerformanceProfile) => configMapNameOf(p.spec.targetRef)],
  ] as const) {
    const enqueue = enqueueProfilesOf(nameOf);
    for (const event of ['add', 'update', 'delete'] as const) informer.on(event, enqueue);
  }
  const cached =
    <T extends InformedObject>(informer: Informer<T>) =>
    (namespace: string, name: string) =>
      informer.get(`${namespace}/${name}`);

  // One Redis connection pool for the metric sources and the maxmemory actuator, closed on stop.
  const redis = new RedisConnections();
  const readSecret = classifyingSecretReader(kubeSecretReader(kubeConfig.makeApiClient(CoreV1Api)));
  const sources = createMetricSources({
    readSecret: async (namespace, ref) => await readSecret({ namespace, ...ref }),
    unknownAnswers: metrics.metricUnknownTotal,
    redis,
  });
  const ctx: ReconcileContext = makeReconcileContext(kubeConfig, {
    profile: (key) => profiles.get(key),
    events: createEventRecorder(kubeConfig, options.identity, logger, clock),
    logger,
    metrics,
    sources,
    redis,
    readSecret,
    targets: { deployment: cached(deployments), hpa: cached(hpas), configMap: cached(configMaps) },
  });
  let workers: Workers | undefined;
  const startWorkers = () => {
    if (workers) return;
    logger.info({ concurrency: options.concurrency ?? 4 }, 'starting workers');
    // A new leader starts from the cluster and Prometheus, never from what it may have kept.
    ctx.histories.clear();
    workers = runWorkers({
      queue,
      reconcile: async (key) => await reconcileProfile(ctx, key),
      errorPolicy: (key, err) => {
        const verdict = errorPolicy(err);
        const message = errorMessage(err);
        if (verdict.kind === 'temporary') {
          logger.warn({ profile: key, reason: verdict.reason, error: message }, 'reconcile failed: retrying');
          return verdict.retryAfterMs === undefined
            ? { kind: 'retry' }
            : { kind: 'requeueAfter', delayMs: verdict.retryAfterMs };
        }
        logger.error(
          { profile: key, reason: verdict.reason, error: message },
          'reconcile failed: not retrying',
        );
        void reconcileFailure(ctx, key, verdict.reason, message).catch((failure: unknown) =>
          logger.warn({ profile: key, error: errorMessage(failure) }, 'failure not reported in status'),
        );
        return verdict.recheckAfterMs === undefined
          ? { kind: 'drop' }
          : { kind: 'requeueAfter', delayMs: verdict.recheckAfterMs };
      },
      concurrency: options.concurrency ?? 4,
      metrics,
      logger,
      clock,
    });
  };

  const server = await startHttpServer({
    port: options.metricsPort ?? 8080,
    host: options.metricsHost ?? '0.0.0.0',
    registry: metrics.registry,
    isReady: () => informers.every((informer) => informer.hasSynced()),
  });
  await Promise.all(informers.map((informer) => informer.start()));
  logger.info(
    { namespaces: namespaces.length ? namespaces : 'all', metricsPort: server.port },
    'caches synced',
  );

  let elector: LeaderElector | undefined;
  if (options.leaderElection === false) {
    startWorkers();
  } else {
    const le = options.leaderElection;
    elector = new LeaderElector({
      kubeConfig,
      namespace: le.namespace,
      name: le.name ?? 'perfpilot-operator',
      identity: options.identity,
      ...(le.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
      ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
      ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
      metrics,
      // The elector's lines name the lease (namespace/name) and the identity themselves.
      logger,
      clock,
    });
    void elector.run({
      onStartedLeading: () => {
        logger.info('became leader');
        startWorkers();
      },
      onStoppedLeading: () => {
        logger.warn('lost leadership');
        queue.shutDown();
        options.onLostLeadership?.();
      },
    });
  }

  return {
    metrics,
    metricsPort: server.port,
    profiles,
    isLeader: () => (elector ? elector.isLeader() : true),
    stop: async () => {
      queue.shutDown();
      await workers?.stop();
      await elector?.release();
      for (const informer of informers) informer.stop();
      await server.close();
      sources.close();
      await redis.close();
      await kubeConfig.close();
      logger.info('stopped');
    },
  };
}
