/**
 * An informer that does not go quiet: a keyed store of one resource filled by list + watch, per
 * namespace or cluster-wide, that relists on 410 Gone (diffing the new list against the store, so
 * changes missed during an outage, deletions included, still reach the handlers), reconnects with
 * jittered exponential backoff, re-watches when a watch has been silent for too long, and relists
 * periodically to heal anything else. Handlers that throw are logged; the loop goes on.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../telemetry/logger.ts';
import type { RuntimeMetrics } from '../telemetry/metrics.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { type Clock, systemClock, type TimerHandle } from './clock.ts';
import { getJson, KubeHttpError, openWatch, type Query, type WatchStream } from './kube-http.ts';

/** Options of Informer. */
export interface InformerOptions<T = unknown> {
  /** kubeConfig names the API server and the credentials. */
  readonly kubeConfig: KubeConfig;
  /** group is the API group, '' for the core group (ConfigMaps, Pods, …). */
  readonly group: string;
  /** version is the API version, e.g. "v1alpha1". */
  readonly version: string;
  /** plural is the resource name in URLs, e.g. "performanceprofiles". */
  readonly plural: string;
  /**
   * namespaces to watch, one list+watch each; empty watches all namespaces with one
   * list+watch (cluster-scoped resources too).
   */
  readonly namespaces: readonly string[];
  /** labelSelector restricts the objects, e.g. "app=risk-api". @default every object */
  readonly labelSelector?: string;
  /**
   * transform turns each object into what the store keeps, before handlers see it, e.g.
   * {@link withoutManagedFields} (as controller-runtime's cache transforms do). @default the object as received
   */
  readonly transform?: (obj: T) => T;
  /** backoff shapes reconnect delays. @default 800 ms doubling to 30 s, jitter 20 %, reset after 120 s healthy */
  readonly backoff?: BackoffOptions;
  /** watchdogMs: a watch without any event (bookmarks included) this long is replaced. @default 300000 */
  readonly watchdogMs?: number;
  /** relistIntervalMs is the period of a full relist that heals anything a watch missed. @default 600000 */
  readonly relistIntervalMs?: number;
  /** watchTimeoutSeconds asks the server to end each watch after about this long (jittered up to 2×). @default 300 */
  readonly watchTimeoutSeconds?: number;
  /** requestTimeoutMs bounds how long a list or a watch's connection may stay without an answer. @default 60000 */
  readonly requestTimeoutMs?: number;
  /** pageSize is the number of objects per list page. @default 500 */
  readonly pageSize?: number;
  /** metrics count watch restarts and relists. @default none */
  readonly metrics?: RuntimeMetrics;
  /** logger receives connection trouble and handler failures. @default none */
  readonly logger?: Logger;
  /** clock times reconnect backoff, the watchdog and the periodic relist. @default systemClock */
  readonly clock?: Clock;
}

/** InformerEvent names the store changes handlers can subscribe to. */
export type InformerEvent = 'add' | 'update' | 'delete';

/** InformerHandler receives the object and, for updates, the previous version. */
export type InformerHandler<T> = (obj: T, old?: T) => void;

/**
 * InformedObject is what the informer needs of an object. Client-node's KubernetesObject fits,
 * and so do our own API types, whose timestamps are strings rather than Dates.
 */
export interface InformedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

/** objectKey is `namespace/name` for namespaced objects and `name` for cluster-scoped ones. */
export function objectKey(obj: InformedObject): string {
  const namespace = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return namespace ? `${namespace}/${name}` : name;
}

interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

/**
 * withoutManagedFields drops metadata.managedFields, often the larger part of a small object: no
 * reader of a cache needs them (server-side apply reads the live object before it writes).
 */
export function withoutManagedFields<T extends InformedObject>(obj: T): T {
  const metadata = obj.metadata as (InformedObject['metadata'] & { managedFields?: unknown }) | undefined;
  if (!metadata || metadata.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...kept } = metadata;
  return { ...obj, metadata: kept };
}

/** What a watch ended with, when it did not fail. */
type WatchOutcome = 'closed' | 'gone' | 'idle' | 'relist' | 'stopped' | 'failed';

/** Informer keeps an up-to-date store of one resource and tells handlers what changed. */
export class Informer<T extends InformedObject> {
  readonly #options: InformerOptions<T>;
  readonly #resource: string;
  readonly #store = new Map<string, T>();
  readonly #handlers: Record<InformerEvent, InformerHandler<T>[]> = { add: [], update: [], delete: [] };
  readonly #reflectors: NamespaceReflector<T>[];
  #relistTimer: TimerHandle | undefined;
  #started = false;

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    this.#resource = options.group ? `${options.plural}.${options.group}` : options.plural;
    const namespaces = options.namespaces.length > 0 ? [...new Set(options.namespaces)] : [''];
    const logger = options.logger?.child({ resource: this.#resource });
    this.#reflectors = namespaces.map(
      (namespace) =>
        new NamespaceReflector<T>({
          informer: options,
          namespace,
          resource: this.#resource,
          logger: logger?.child({ watchNamespace: namespace || '*' }),
          applyList: (items) => this.#applyList(namespace, items),
          applyEvent: (type, obj) => this.#applyEvent(type, obj),
        }),
    );
  }

  /** on subscribes a handler; subscribe before start() to see the initial adds. */
  on(event: InformerEvent, handler: InformerHandler<T>): void {
    this.#handlers[event].push(handler);
  }

  /**
   * start lists and watches every namespace and resolves once each namespace's first list is in
   * the store (or once stop() is called). Failures are retried with backoff, never thrown.
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error(`informer ${this.#resource}: start() called twice`);
    this.#started = true;
    for (const reflector of this.#reflectors) void reflector.run();
    const relistIntervalMs = this.#options.relistIntervalMs ?? 600_000;
    const clock = this.#options.clock ?? systemClock;
    const scheduleRelist = () => {
      this.#relistTimer = clock.setTimeout(() => {
        for (const reflector of this.#reflectors) reflector.requestRelist();
        scheduleRelist();
      }, relistIntervalMs);
    };
    if (relistIntervalMs > 0) scheduleRelist();
    await Promise.all(this.#reflectors.map((reflector) => reflector.firstList));
  }

  /** stop ends every watch and pending retry; the store keeps its last contents. */
  stop(): void {
    if (this.#relistTimer !== undefined) (this.#options.clock ?? systemClock).clearTimeout(this.#relistTimer);
    this.#relistTimer = undefined;
    for (const reflector of this.#reflectors) reflector.stop();
  }

  /** hasSynced tells whether the first list of every namespace is in the store. */
  hasSynced(): boolean {
    return this.#reflectors.every((reflector) => reflector.hasListed());
  }

  /** get returns the stored object for `namespace/name` (or `name` when cluster-scoped). */
  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  /** list returns every stored object. */
  list(): T[] {
    return [...this.#store.values()];
  }

  /** A full list replaces the namespace's part of the store; the differences become events. */
  #applyList(namespace: string, items: T[]): void {
    const listed = new Map(items.map((obj) => [objectKey(obj), obj]));
    // Deletions first, as a watch would most often have shown them: gone, then new.
    for (const [key, old] of this.#store) {
      if (listed.has(key)) continue;
      if (namespace !== '' && old.metadata?.namespace !== namespace) continue;
      this.#store.delete(key);
      this.#emit('delete', old);
    }
    for (const [key, obj] of listed) {
      const old = this.#store.get(key);
      this.#store.set(key, obj);
      if (old === undefined) this.#emit('add', obj);
      // An unchanged object is not news: periodic relists must not requeue every profile.
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
        this.#emit('update', obj, old);
    }
  }

  #applyEvent(type: string, obj: T): void {
    const key = objectKey(obj);
    const old = this.#store.get(key);
    if (type === 'DELETED') {
      this.#store.delete(key);
      this.#emit('delete', obj, old);
      return;
    }
    this.#store.set(key, obj);
    if (old === undefined) this.#emit('add', obj);
    else this.#emit('update', obj, old);
  }

  #emit(event: InformerEvent, obj: T, old?: T): void {
    for (const handler of this.#handlers[event]) {
      try {
        handler(obj, old);
      } catch (err) {
        // A handler's bug must not stop the watch: the store stays right and other handlers run.
        this.#options.logger?.error(
          { err, event, key: objectKey(obj), resource: this.#resource },
          'handler failed',
        );
      }
    }
  }
}

interface ReflectorOptions<T> {
  informer: InformerOptions<T>;
  namespace: string;
  resource: string;
  logger: Logger | undefined;
  applyList: (items: T[]) => void;
  applyEvent: (type: string, obj: T) => void;
}

/** A watch shorter than this that delivered nothing counts as a failure, so it cannot spin. */
const shortestHealthyWatchMs = 1000;

/** NamespaceReflector runs the list+watch loop of one namespace (or of all, when namespace is ''). */
class NamespaceReflector<T extends InformedObject> {
  readonly #options: ReflectorOptions<T>;
  readonly #path: string;
  readonly #backoff: Backoff;
  readonly #watchdogMs: number;
  readonly #requestTimeoutMs: number;
  readonly #clock: Clock;
  #resourceVersion: string | undefined;
  #needsList = true;
  #listed = false;
  #stopped = false;
  /** Aborts requests still connecting when stop() is called, so none keeps the process alive. */
  readonly #abort = new AbortController();
  #endWatch: ((outcome: WatchOutcome) => void) | undefined;
  #errorEvent = '';
  #listedAt = Number.NEGATIVE_INFINITY;
  #wakeFromSleep: (() => void) | undefined;
  #resolveFirstList!: () => void;
  /** firstList resolves after the first list is in the store, or on stop(). */
  readonly firstList = new Promise<void>((resolve) => {
    this.#resolveFirstList = resolve;
  });

  constructor(options: ReflectorOptions<T>) {
    this.#options = options;
    const { group, version, plural } = options.informer;
    const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
    this.#path = options.namespace
      ? `${prefix}/namespaces/${encodeURIComponent(options.namespace)}/${plural}`
      : `${prefix}/${plural}`;
    this.#clock = options.informer.clock ?? systemClock;
    this.#backoff = new Backoff({ clock: this.#clock, ...options.informer.backoff });
    this.#watchdogMs = options.informer.watchdogMs ?? 300_000;
    this.#requestTimeoutMs = options.informer.requestTimeoutMs ?? 60_000;
  }

  hasListed(): boolean {
    return this.#listed;
  }

  /** requestRelist makes the loop list again now, ending the current watch. */
  requestRelist(): void {
    this.#needsList = true;
    this.#endWatch?.('relist');
  }

  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    this.#endWatch?.('stopped');
    this.#wakeFromSleep?.();
    this.#resolveFirstList();
  }

  async run(): Promise<void> {
    const { logger, informer, resource } = this.#options;
    while (!this.#stopped) {
      let watching = false;
      try {
        if (this.#needsList) await this.#list();
        if (this.#stopped) break;
        watching = true;
        const outcome = await this.#watch();
        if (outcome === 'stopped') break;
        informer.metrics?.watchRestarts.inc({ resource });
        if (outcome === 'gone') {
          logger?.info({ resourceVersion: this.#resourceVersion }, 'watch expired (410 Gone); relisting');
          await this.#relistAfterGone();
        } else if (outcome === 'idle') {
          // Often just a quiet resource on a server without bookmarks; a dead connection looks the same.
          logger?.info({ watchdogMs: this.#watchdogMs }, 'watch silent too long; watching again');
        }
      } catch (err) {
        if (this.#stopped) break;
        if (watching) informer.metrics?.watchRestarts.inc({ resource });
        if (err instanceof KubeHttpError && err.statusCode === 410) {
          logger?.info({ err: err.message }, 'resource version expired (410 Gone); relisting');
          await this.#relistAfterGone();
          continue;
        }
        // 429 with Retry-After (a watch cache still initializing, say) is the server naming the
        // time to come back, not a broken connection: wait that long without growing the backoff.
        const retryAfterMs =
          err instanceof KubeHttpError && err.statusCode === 429 ? err.retryAfterMs : undefined;
        const delayMs = retryAfterMs ?? this.#backoff.nextDelayMs();
        logger?.warn(
          { err: errorSummary(err), delayMs: Math.round(delayMs) },
          watching ? 'watch failed' : 'list failed',
        );
        await this.#sleep(delayMs);
      }
    }
  }

  /**
   * A 410 right after a fresh list means the server cannot serve that version yet (a watch cache
   * still filling, say): relisting at once would spin, so it waits like any other failure.
   */
  async #relistAfterGone(): Promise<void> {
    this.#needsList = true;
    if (this.#clock.now() - this.#listedAt < shortestHealthyWatchMs)
      await this.#sleep(this.#backoff.nextDelayMs());
  }

  async #list(): Promise<void> {
    const { informer } = this.#options;
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const query: Query = {
        labelSelector: informer.labelSelector,
        limit: informer.pageSize ?? 500,
        continue: continueToken,
      };
      let page: ObjectList<T>;
      try {
        page = await getJson<ObjectList<T>>(
          informer.kubeConfig,
          this.#path,
          query,
          this.#requestTimeoutMs,
          this.#abort.signal,
        );
      } catch (err) {
        // A continue token expires with compaction: start the list again from the first page.
        if (continueToken !== undefined && err instanceof KubeHttpError && err.statusCode === 410) {
          items.length = 0;
          continueToken = undefined;
          continue;
        }
        throw err;
      }
      // List items carry no kind; handlers and actuators are easier to write when they do.
      const kind = page.kind?.replace(/List$/, '');
      const transform = informer.transform ?? ((obj: T) => obj);
      for (const item of page.items ?? [])
        items.push(transform({ apiVersion: page.apiVersion, kind, ...item }));
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion;
    } while (continueToken !== undefined && !this.#stopped);
    if (this.#stopped) return;
    if (this.#listed) informer.metrics?.relists.inc({ resource: this.#options.resource });
    this.#options.applyList(items);
    this.#listedAt = this.#clock.now();
    this.#resourceVersion = resourceVersion;
    this.#needsList = false;
    if (!this.#listed) {
      this.#listed = true;
      this.#resolveFirstList();
      this.#options.logger?.debug({ objects: items.length, resourceVersion }, 'listed');
    }
  }

  async #watch(): Promise<WatchOutcome> {
    const { informer } = this.#options;
    const timeoutSeconds = Math.round((informer.watchTimeoutSeconds ?? 300) * (1 + Math.random()));
    const query: Query = {
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds,
      labelSelector: informer.labelSelector,
    };
    let outcome: WatchOutcome | undefined;
    let stream: WatchStream | undefined;
    let watchdog: TimerHandle | undefined;
    let events = 0;
    const end = (why: WatchOutcome) => {
      outcome ??= why;
      stream?.close();
    };
    const feedWatchdog = () => {
      if (watchdog !== undefined) this.#clock.clearTimeout(watchdog);
      watchdog = this.#clock.setTimeout(() => end('idle'), this.#watchdogMs);
    };
    this.#endWatch = end;
    const openedAt = this.#clock.now();
    try {
      stream = await openWatch(
        informer.kubeConfig,
        this.#path,
        query,
        this.#requestTimeoutMs,
        (type, object) => {
          if (outcome !== undefined) return;
          events++;
          feedWatchdog();
          this.#handleEvent(type, object, end);
        },
        this.#abort.signal,
      );
      if (outcome !== undefined) stream.close();
      feedWatchdog();
      await stream.ended;
    } catch (err) {
      // Ending a watch on purpose destroys its connection; that is not a failure.
      if (outcome === undefined) throw err;
    } finally {
      if (watchdog !== undefined) this.#clock.clearTimeout(watchdog);
      this.#endWatch = undefined;
    }
    // An ERROR event other than 410 backs off like a failed request.
    if (outcome === 'failed') throw new Error(this.#errorEvent);
    if (outcome === undefined && events === 0 && this.#clock.now() - openedAt < shortestHealthyWatchMs) {
      throw new Error('watch ended at once without any event');
    }
    return this.#stopped ? 'stopped' : (outcome ?? 'closed');
  }

  #handleEvent(type: string, object: unknown, end: (why: WatchOutcome) => void): void {
    const obj = object as T;
    const resourceVersion = obj?.metadata?.resourceVersion;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        this.#options.applyEvent(type, this.#options.informer.transform?.(obj) ?? obj);
        if (resourceVersion) this.#resourceVersion = resourceVersion;
        return;
      }
      case 'BOOKMARK':
        if (resourceVersion) this.#resourceVersion = resourceVersion;
        return;
      case 'ERROR': {
        const status = object as { code?: number; message?: string };
        if (status?.code === 410) {
          end('gone');
          return;
        }
        this.#errorEvent = `watch error event: ${status?.code ?? '?'} ${status?.message ?? ''}`;
        end('failed');
        return;
      }
      default:
        return;
    }
  }

  async #sleep(delayMs: number): Promise<void> {
    if (this.#stopped) return;
    await new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(resolve, delayMs);
      this.#wakeFromSleep = () => {
        this.#clock.clearTimeout(timer);
        resolve();
      };
    });
    this.#wakeFromSleep = undefined;
  }
}

function errorSummary(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
