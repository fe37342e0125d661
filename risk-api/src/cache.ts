/**
 * The Redis cache: one standalone node or a Redis Cluster discovered from any one of its nodes
 * (INFO says `cluster_enabled:1`), through ioredis. Each data type has its TTL and write strategy
 * (the seed's CACHE_STRATEGIES): reads are cache-aside everywhere; on a miss the computed value is
 * written before answering (write-through, cache-aside), after answering (write-behind), or not
 * at all (write-around: only an explicit write fills it).
 *
 * Redis is never required: commands fail fast (no offline queue, a short command timeout), a
 * failed lookup counts as a miss and an error, and the caller computes and serves. Redis counts
 * as unavailable when the client loses its connection or when commands keep failing (a cluster
 * whose nodes died can leave the client believing it is ready); then lookups skip it, one probe
 * per PROBE_INTERVAL_MS excepted, until a command succeeds again.
 */
import { Cluster, Redis } from 'ioredis';
import type { CacheDataType, CacheStrategy, RedisMode } from './config.ts';
import type { RiskApiMetrics } from './metrics.ts';

/** A Redis command slower than this counts as failed, so a sick Redis cannot stall requests. */
export const REDIS_COMMAND_TIMEOUT_MS = 250;

/** After this many failed commands in a row Redis counts as unavailable, whatever the client says. */
export const FAILURES_BEFORE_UNAVAILABLE = 3;
/** While unavailable that way, one lookup per interval tries Redis again. */
export const PROBE_INTERVAL_MS = 1000;

/** Sorted set of symbol request counts, shared by every replica; warming reads its top entries. */
export const POPULAR_SYMBOLS_KEY = 'stats:market_data_requests';

/** Options of RedisCache. */
export interface RedisCacheOptions {
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  readonly mode: RedisMode;
  readonly strategies: Readonly<Record<CacheDataType, CacheStrategy>>;
  /** defaultTtlSeconds is CACHE_TTL_DEFAULT, for values of no listed data type. */
  readonly defaultTtlSeconds: number;
  readonly metrics: RiskApiMetrics;
  /** onStateChange is told when Redis becomes available or unavailable. */
  readonly onStateChange?: (available: boolean, detail: string) => void;
}

type Client = Redis | Cluster;

/** RedisCache: see the file comment. */
export class RedisCache {
  readonly #options: RedisCacheOptions;
  #client: Client | undefined;
  #mode: 'cluster' | 'standalone' | 'unknown' = 'unknown';
  #available = false;
  /** clientReady: the ioredis client's own view (its ready and close events). */
  #clientReady = false;
  #failures = 0;
  #probeAt = 0;
  #detail = 'connecting';
  #stopped = false;
  #discovery: NodeJS.Timeout | undefined;
  readonly #symbolCounts = new Map<string, number>();

  constructor(options: RedisCacheOptions) {
    this.#options = options;
  }

  /** available is true while Redis answers. */
  get available(): boolean {
    return this.#available;
  }

  /** status describes the connection for /ready: mode and state. */
  status(): { available: boolean; mode: string; detail: string } {
    return { available: this.#available, mode: this.#mode, detail: this.#detail };
  }

  /** ttlOf is the TTL in seconds of one data type (`default` is CACHE_TTL_DEFAULT). */
  ttlOf(dataType: CacheDataType | 'default'): number {
    return dataType === 'default' ? this.#options.defaultTtlSeconds : this.#options.strategies[dataType].ttl;
  }

  /**
   * start connects in the background and returns at once: the API serves without its cache until
   * Redis answers. With REDIS_CLUSTER=auto it asks the node whether it is part of a cluster.
   */
  start(): void {
    const attempt = async () => {
      if (this.#stopped) return;
      try {
        const mode = this.#options.mode === 'auto' ? await this.#discoverMode() : this.#options.mode;
        if (this.#stopped) return;
        this.#connect(mode);
      } catch (err) {
        this.#setState(
          false,
          `cannot reach Redis at ${this.#options.host}:${this.#options.port}: ${(err as Error).message}`,
        );
        this.#discovery = setTimeout(attempt, 1000);
      }
    };
    void attempt();
  }

  async #discoverMode(): Promise<'cluster' | 'standalone'> {
    const probe = new Redis({
      host: this.#options.host,
      port: this.#options.port,
      ...(this.#options.password ? { password: this.#options.password } : {}),
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      const info = await probe.info('cluster');
      return /cluster_enabled:1/.test(info) ? 'cluster' : 'standalone';
    } finally {
      probe.disconnect();
    }
  }

  #connect(mode: 'cluster' | 'standalone'): void {
    const o = this.#options;
    const auth = o.password ? { password: o.password } : {};
    const client: Client =
      mode === 'cluster'
        ? new Cluster([{ host: o.host, port: o.port }], {
            enableOfflineQueue: false,
            clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
            slotsRefreshTimeout: 2000,
            redisOptions: { ...auth, commandTimeout: REDIS_COMMAND_TIMEOUT_MS, maxRetriesPerRequest: 0 },
          })
        : new Redis({
            host: o.host,
            port: o.port,
            ...auth,
            enableOfflineQueue: false,
            commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
            maxRetriesPerRequest: 0,
            retryStrategy: (times) => Math.min(100 * times, 2000),
          });
    this.#mode = mode;
    this.#client = client;
    const down = (detail: string) => {
      this.#clientReady = false;
      this.#setState(false, detail);
    };
    client.on('ready', () => {
      this.#clientReady = true;
      this.#failures = 0;
      this.#setState(true, `connected (${mode})`);
    });
    client.on('error', (err: Error) => down(`Redis error: ${err.message}`));
    client.on('close', () => down('connection closed; reconnecting'));
    client.on('end', () => down('connection ended'));
  }

  #setState(available: boolean, detail: string): void {
    const changed = available !== this.#available;
    this.#available = available;
    this.#detail = available ? detail : `unavailable: ${detail}; serving without the cache`;
    if (changed) this.#options.onStateChange?.(available, this.#detail);
  }

  /** shouldTry: available, or unavailable by failed commands and due for a probe. */
  #shouldTry(): boolean {
    if (!this.#client || !this.#clientReady) return false;
    if (this.#available) return true;
    if (Date.now() < this.#probeAt) return false;
    this.#probeAt = Date.now() + PROBE_INTERVAL_MS;
    return true;
  }

  #commandSucceeded(): void {
    this.#failures = 0;
    if (!this.#available && this.#clientReady) this.#setState(true, `connected (${this.#mode})`);
  }

  #commandFailed(operation: string, err: unknown): void {
    this.#options.metrics.cacheErrors.inc({ operation });
    this.#failures++;
    if (this.#available && this.#failures >= FAILURES_BEFORE_UNAVAILABLE) {
      this.#probeAt = Date.now() + PROBE_INTERVAL_MS;
      this.#setState(false, `commands failing (${(err as Error).message})`);
    }
  }

  /** get looks `key` up, counting a hit or a miss for `dataType`; undefined on a miss or an error. */
  async get(dataType: CacheDataType | 'default', key: string): Promise<string | undefined> {
    const m = this.#options.metrics;
    const client = this.#client;
    if (!client || !this.#shouldTry()) {
      m.recordCacheLookup(dataType, false);
      return undefined;
    }
    try {
      const value = await client.get(key);
      this.#commandSucceeded();
      m.recordCacheLookup(dataType, value !== null);
      return value ?? undefined;
    } catch (err) {
      this.#commandFailed('get', err);
      m.recordCacheLookup(dataType, false);
      return undefined;
    }
  }

  /**
   * fill stores a value computed after a miss, as the data type's strategy says: now
   * (write-through, cache-aside), in the background (write-behind), or not (write-around).
   */
  async fill(dataType: CacheDataType | 'default', key: string, value: string): Promise<void> {
    const strategy = dataType === 'default' ? 'cache-aside' : this.#options.strategies[dataType].strategy;
    if (strategy === 'write-around') return;
    const write = this.put(dataType, key, value);
    if (strategy !== 'write-behind') await write;
  }

  /** put writes a value with its data type's TTL; failures are counted, never thrown. */
  async put(dataType: CacheDataType | 'default', key: string, value: string): Promise<void> {
    const client = this.#client;
    if (!client || !this.#available) return;
    try {
      await client.set(key, value, 'EX', this.ttlOf(dataType));
    } catch (err) {
      this.#commandFailed('set', err);
    }
  }

  /** countSymbolRequest notes one market-data request; flushPopularity sends the counts to Redis. */
  countSymbolRequest(symbol: string): void {
    this.#symbolCounts.set(symbol, (this.#symbolCounts.get(symbol) ?? 0) + 1);
  }

  /** flushPopularity adds the counted requests to POPULAR_SYMBOLS_KEY in one round trip. */
  async flushPopularity(): Promise<void> {
    const client = this.#client;
    if (!client || !this.#available || this.#symbolCounts.size === 0) return;
    const counts = [...this.#symbolCounts];
    this.#symbolCounts.clear();
    try {
      const pipeline = client.pipeline();
      for (const [symbol, n] of counts) pipeline.zincrby(POPULAR_SYMBOLS_KEY, n, symbol);
      await pipeline.exec();
    } catch (err) {
      this.#commandFailed('zincrby', err);
    }
  }

  /** popularSymbols returns the most requested symbols across replicas, most requested first. */
  async popularSymbols(count: number): Promise<string[]> {
    const client = this.#client;
    if (!client || !this.#available) return [];
    try {
      return await client.zrevrange(POPULAR_SYMBOLS_KEY, 0, count - 1);
    } catch (err) {
      this.#commandFailed('zrevrange', err);
      return [];
    }
  }

  /** whenAvailable resolves true once Redis answers, or false after `timeoutMs`. */
  async whenAvailable(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#available && Date.now() < deadline && !this.#stopped) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.#available;
  }

  /** stop closes the connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#discovery);
    const client = this.#client;
    this.#client = undefined;
    this.#available = false;
    if (client) {
      await client.quit().catch(() => client.disconnect());
    }
  }
}
