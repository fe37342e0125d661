/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go does it: a candidate takes
 * the lease when it is free or its holder stopped renewing for a whole lease duration (measured
 * on the candidate's own clock from when it last saw the lease change, so clock skew between
 * nodes does not matter); the leader renews every retry period and gives up when it could not
 * renew for the renew deadline. Every write carries the resourceVersion it read, so two
 * candidates can never both win.
 */
import {
  ApiException,
  CoordinationV1Api,
  type KubeConfig,
  type V1Lease,
  V1MicroTime,
} from '@kubernetes/client-node';
import type { Logger } from '../telemetry/logger.ts';
import type { RuntimeMetrics } from '../telemetry/metrics.ts';
import { type Clock, systemClock } from './clock.ts';

/** Options of LeaderElector. */
export interface LeaderElectorOptions {
  /** kubeConfig names the API server and the credentials. */
  readonly kubeConfig: KubeConfig;
  /** namespace of the Lease. */
  readonly namespace: string;
  /** name of the Lease. */
  readonly name: string;
  /** identity of this candidate, unique among replicas (the pod name, say). */
  readonly identity: string;
  /** leaseDurationMs: how long standbys wait after the last renewal before taking over. @default 15000 */
  readonly leaseDurationMs?: number;
  /** renewDeadlineMs: how long the leader keeps retrying a renewal before it gives up. @default 10000 */
  readonly renewDeadlineMs?: number;
  /** retryPeriodMs: the interval between attempts to acquire or renew. @default 2000 */
  readonly retryPeriodMs?: number;
  /** metrics set the leader gauge. @default none */
  readonly metrics?: RuntimeMetrics;
  /** logger receives leadership changes and failed attempts. @default none */
  readonly logger?: Logger;
  /** clock times retries, the lease duration and the renew deadline, and stamps the Lease. @default systemClock */
  readonly clock?: Clock;
}

/** LeaderCallbacks are called when this candidate gains and loses the lease. */
export interface LeaderCallbacks {
  /** onStartedLeading: this replica now holds the lease and may act. */
  onStartedLeading: () => void;
  /** onStoppedLeading: renewal failed past the renew deadline; the caller should exit at once. */
  onStoppedLeading: () => void;
}

/** LeaderElector competes for one Lease and keeps it while it can. */
export class LeaderElector {
  readonly #options: LeaderElectorOptions;
  readonly #api: CoordinationV1Api;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #logger: Logger | undefined;
  readonly #clock: Clock;
  #leader = false;
  #stopped = false;
  /** The lease's resourceVersion as last seen, and when (monotonic ms) it was first seen. */
  #observed: { resourceVersion: string; at: number } | undefined;
  #attempt: Promise<boolean> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
    this.#api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2000;
    this.#clock = options.clock ?? systemClock;
    if (
      !(this.#leaseDurationMs > this.#renewDeadlineMs && this.#renewDeadlineMs > this.#retryPeriodMs * 1.2)
    ) {
      throw new Error(
        `leader election: need leaseDurationMs > renewDeadlineMs > 1.2 × retryPeriodMs, got ` +
          `${this.#leaseDurationMs}, ${this.#renewDeadlineMs}, ${this.#retryPeriodMs}`,
      );
    }
    if (!options.identity) throw new Error('leader election: identity must not be empty');
    this.#logger = options.logger?.child({
      lease: `${options.namespace}/${options.name}`,
      identity: options.identity,
    });
    options.metrics?.leader.set(0);
  }

  /** isLeader tells whether this replica holds the lease right now. */
  isLeader(): boolean {
    return this.#leader;
  }

  /**
   * run waits for the lease, calls onStartedLeading, renews until it fails past the renew
   * deadline and then calls onStoppedLeading. It resolves when leadership is lost or when
   * stop() or release() is called (neither calls onStoppedLeading: the caller chose to stop).
   */
  async run(callbacks: LeaderCallbacks): Promise<void> {
    while (!this.#stopped) {
      if (await this.#tryAcquireOrRenew()) break;
      await this.#sleep(this.#retryPeriodMs * (1 + 0.2 * Math.random()));
    }
    if (this.#stopped) return;
    this.#setLeader(true);
    this.#logger?.info('started leading');
    this.#call(callbacks.onStartedLeading, 'onStartedLeading');

    let lastRenewedAt = this.#clock.now();
    while (!this.#stopped) {
      await this.#sleep(this.#retryPeriodMs);
      if (this.#stopped) return;
      const renewed = await this.#tryAcquireOrRenew();
      if (this.#stopped) return;
      if (renewed) {
        lastRenewedAt = this.#clock.now();
      } else if (this.#clock.now() - lastRenewedAt >= this.#renewDeadlineMs) {
        this.#stopped = true;
        this.#setLeader(false);
        this.#logger?.error(
          { renewDeadlineMs: this.#renewDeadlineMs },
          'lost the lease: could not renew in time',
        );
        this.#call(callbacks.onStoppedLeading, 'onStoppedLeading');
        return;
      }
    }
  }

  /**
   * stop ends acquiring and renewing without touching the lease, as a crash would: standbys
   * take over once the lease duration has passed.
   */
  stop(): void {
    this.#stopped = true;
    this.#setLeader(false);
    this.#wake?.();
  }

  /**
   * release stops renewing and, if this replica holds the lease, clears its holder so that a
   * standby takes over at its next attempt instead of waiting out the lease duration.
   */
  async release(): Promise<void> {
    const wasLeader = this.#leader;
    this.stop();
    // A renewal still in flight could land after the release and hold the lease again.
    await this.#attempt?.catch(() => false);
    if (!wasLeader) return;
    try {
      const lease = await this.#api.readNamespacedLease({
        name: this.#options.name,
        namespace: this.#options.namespace,
      });
      if (lease.spec?.holderIdentity !== this.#options.identity) return;
      const now = new V1MicroTime(this.#clock.date().getTime());
      await this.#api.replaceNamespacedLease({
        name: this.#options.name,
        namespace: this.#options.namespace,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            renewTime: now,
            acquireTime: now,
          },
        },
      });
      this.#logger?.info('released the lease');
    } catch (err) {
      // Not fatal: the standby takes over when the lease expires.
      this.#logger?.warn({ err: errorMessage(err) }, 'could not release the lease');
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const attempt = this.#acquireOrRenew().catch((err: unknown) => {
      this.#logger?.warn(
        { err: errorMessage(err) },
        this.#leader ? 'renewal failed' : 'acquire attempt failed',
      );
      return false;
    });
    this.#attempt = attempt;
    // A request hanging on a dead connection must not outlive the renew deadline. An I/O timeout,
    // so on real time: a test's clock moves the schedule, not the network.
    const timeoutMs = Math.max(this.#retryPeriodMs, this.#renewDeadlineMs / 2);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #acquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity } = this.#options;
    const leaseDurationSeconds = Math.ceil(this.#leaseDurationMs / 1000);
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
      const now = new V1MicroTime(this.#clock.date().getTime());
      try {
        const created = await this.#api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        this.#observe(created);
        return !this.#stopped;
      } catch (createErr) {
        if (createErr instanceof ApiException && createErr.code === 409) return false;
        throw createErr;
      }
    }
    this.#observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const heldFor = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const observedAt = this.#observed?.at ?? this.#clock.now();
    if (holder !== '' && holder !== identity && this.#clock.now() - observedAt < heldFor) return false;
    if (this.#stopped) return false;
    const now = new V1MicroTime(this.#clock.date().getTime());
    const takingOver = holder !== identity;
    try {
      const updated = await this.#api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            ...spec,
            holderIdentity: identity,
            leaseDurationSeconds,
            renewTime: now,
            acquireTime: takingOver ? now : spec.acquireTime,
            leaseTransitions:
              takingOver && holder !== '' ? (spec.leaseTransitions ?? 0) + 1 : spec.leaseTransitions,
          },
        },
      });
      this.#observe(updated);
      if (takingOver) this.#logger?.info({ previousHolder: holder || undefined }, 'acquired the lease');
      return true;
    } catch (err) {
      // Someone else wrote the lease since we read it: they won this round.
      if (err instanceof ApiException && err.code === 409) return false;
      throw err;
    }
  }

  #observe(lease: V1Lease): void {
    const resourceVersion = lease.metadata?.resourceVersion ?? '';
    if (this.#observed?.resourceVersion !== resourceVersion) {
      this.#observed = { resourceVersion, at: this.#clock.now() };
    }
  }

  #setLeader(leader: boolean): void {
    this.#leader = leader;
    this.#options.metrics?.leader.set(leader ? 1 : 0);
  }

  #call(callback: () => void, name: string): void {
    try {
      callback();
    } catch (err) {
      this.#logger?.error({ err }, `${name} failed`);
    }
  }

  async #sleep(delayMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(resolve, delayMs);
      this.#wake = () => {
        this.#clock.clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof ApiException) return `HTTP ${err.code}: ${String(err.body).slice(0, 200)}`;
  return err instanceof Error ? err.message : String(err);
}
