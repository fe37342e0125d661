/**
 * Redis `INFO` from every node of a standalone server or a Redis Cluster (masters and replicas,
 * discovered with `CLUSTER NODES` from the profile's seed endpoints), over connections kept per
 * endpoint set and reused across reconciles. I/O only: parsing and rates are redis-info.ts's.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { UnknownReason, type UnknownSignal, unknown } from './prometheus-result.ts';
import {
  aggregateRedis,
  type NodeReading,
  parseClusterNodes,
  parseRedisInfo,
  type RedisMeasurement,
} from './redis-info.ts';

/** How to reach a set of Redis nodes. */
export interface RedisEndpointOptions {
  /** endpoints are `host:port` seeds; in a cluster every other node is discovered from them. */
  readonly endpoints: readonly string[];
  /** password for `AUTH` (from the Secret the profile names). */
  readonly password?: string;
  /** tls connects over TLS, verifying with `ca` (PEM) when given, else the system CAs. */
  readonly tls?: { readonly ca?: string };
  /** timeoutMs bounds connecting and each command. */
  readonly timeoutMs: number;
  /**
   * secondReadingDelayMs: when a node has no earlier reading young enough for a rate, it is read
   * twice this far apart. @default 1000
   */
  readonly secondReadingDelayMs?: number;
  /** maxReadingAgeSeconds: an earlier reading older than this is not used for rates. @default 600 */
  readonly maxReadingAgeSeconds?: number;
}

function splitEndpoint(endpoint: string): { host: string; port: number } {
  const colon = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, colon), port: Number(endpoint.slice(colon + 1)) };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * RedisInfoReader reads INFO from every node behind a set of endpoints, keeping one connection
 * per node and each node's last reading for rates.
 */
export class RedisInfoReader {
  readonly #options: RedisEndpointOptions;
  readonly #clients = new Map<string, Redis>();
  readonly #last = new Map<string, NodeReading>();
  /** The last connection error per node: a refused AUTH shows only there, commands just see a closed connection. */
  readonly #connectionErrors = new Map<string, string>();

  constructor(options: RedisEndpointOptions) {
    this.#options = options;
  }

  #client(node: string): Redis {
    let client = this.#clients.get(node);
    if (!client) {
      const { host, port } = splitEndpoint(node);
      const { password, tls, timeoutMs } = this.#options;
      client = new Redis({
        host,
        port,
        ...(password !== undefined ? { password } : {}),
        ...(tls ? { tls: tls.ca !== undefined ? { ca: tls.ca } : {} } : {}),
        lazyConnect: true,
        connectTimeout: timeoutMs,
        commandTimeout: timeoutMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: (times) => Math.min(200 * times, 5000),
      });
      // Failures reach the caller as rejected commands (with the last of these named); unhandled,
      // the event would crash the process.
      client.on('error', (err: Error) => this.#connectionErrors.set(node, err.message));
      client.on('ready', () => this.#connectionErrors.delete(node));
      this.#clients.set(node, client);
    }
    return client;
  }

  async #command<T>(node: string, run: (client: Redis) => Promise<T>): Promise<T> {
    const client = this.#client(node);
    try {
      if (client.status === 'wait' || client.status === 'end') await client.connect();
      return await run(client);
    } catch (err) {
      const cause = this.#connectionErrors.get(node);
      const message = describe(err);
      throw cause && !message.includes(cause) ? new Error(`${message} (${cause})`, { cause: err }) : err;
    }
  }

  /** nodes lists every node to read: the cluster's (from the first seed that answers) or the seeds. */
  async #nodes(): Promise<{ nodes: string[]; failing: string[]; errors: UnknownSignal[] }> {
    const errors: UnknownSignal[] = [];
    for (const seed of this.#options.endpoints) {
      try {
        const info = await this.#command(seed, (c) => c.info('cluster'));
        if (!/cluster_enabled:1/.test(info))
          return { nodes: [...this.#options.endpoints], failing: [], errors };
        const listed = parseClusterNodes(
          String(await this.#command(seed, (c) => c.call('CLUSTER', 'NODES'))),
        );
        return {
          nodes: listed.filter((n) => !n.failing).map((n) => n.address),
          failing: listed.filter((n) => n.failing).map((n) => n.address),
          errors,
        };
      } catch (err) {
        errors.push(
          unknown(`redis ${seed}`, UnknownReason.Unanswered, `unreachable: ${describe(err)}`).unknown,
        );
      }
    }
    return { nodes: [], failing: [], errors };
  }

  async #readNode(node: string, nowSeconds: () => number): Promise<NodeReading> {
    const text = await this.#command(node, (c) => c.info());
    return { node, atSeconds: nowSeconds(), info: parseRedisInfo(text) };
  }

  /**
   * read measures every node: INFO now, against the node's last reading (or a second reading
   * `secondReadingDelayMs` later when there is none young enough). `nowSeconds` is the clock of the
   * readings. A node that fails or that the cluster flags as failing is unknown, by name.
   */
  async read(nowSeconds: () => number): Promise<RedisMeasurement> {
    const { nodes, failing, errors } = await this.#nodes();
    const unknowns: UnknownSignal[] = [...(nodes.length === 0 ? errors : [])];
    for (const node of failing) {
      unknowns.push(
        unknown(`redis ${node}`, UnknownReason.Unanswered, 'the cluster flags it as failing').unknown,
      );
    }
    const maxAge = this.#options.maxReadingAgeSeconds ?? 600;
    const first = await Promise.allSettled(nodes.map((node) => this.#readNode(node, nowSeconds)));
    const needSecond = nodes.filter((node, i) => {
      const earlier = this.#last.get(node);
      const now = first[i];
      return (
        now?.status === 'fulfilled' &&
        (!earlier ||
          now.value.atSeconds - earlier.atSeconds > maxAge ||
          now.value.atSeconds <= earlier.atSeconds)
      );
    });
    const pairs = new Map<string, { earlier?: NodeReading; later: NodeReading }>();
    nodes.forEach((node, i) => {
      const result = first[i];
      if (result?.status === 'rejected') {
        unknowns.push(
          unknown(`redis ${node}`, UnknownReason.Unanswered, `INFO failed: ${describe(result.reason)}`)
            .unknown,
        );
      } else if (result?.status === 'fulfilled') {
        const earlier = needSecond.includes(node) ? undefined : this.#last.get(node);
        pairs.set(node, { ...(earlier ? { earlier } : {}), later: result.value });
        this.#last.set(node, result.value);
      }
    });
    if (needSecond.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.#options.secondReadingDelayMs ?? 1000));
      const second = await Promise.allSettled(needSecond.map((node) => this.#readNode(node, nowSeconds)));
      needSecond.forEach((node, i) => {
        const result = second[i];
        const pair = pairs.get(node);
        if (result?.status === 'fulfilled' && pair) {
          pairs.set(node, { earlier: pair.later, later: result.value });
          this.#last.set(node, result.value);
        }
      });
    }
    if (pairs.size === 0) {
      return { masters: 0, replicas: 0, unknown: unknowns.length ? unknowns : errors };
    }
    const measured = aggregateRedis([...pairs.values()]);
    const all = [...unknowns, ...measured.unknown];
    return all.length > 0
      ? {
          masters: measured.masters,
          replicas: measured.replicas,
          ...(measured.connectedClients !== undefined ? { connectedClients: measured.connectedClients } : {}),
          unknown: all,
        }
      : measured;
  }

  /** close ends every connection. */
  close(): void {
    for (const client of this.#clients.values()) client.disconnect();
    this.#clients.clear();
  }
}

/** The key of an endpoint set: the same seeds, password and TLS share one reader. */
export function endpointSetKey(options: RedisEndpointOptions): string {
  const secret = createHash('sha256')
    .update(options.password ?? '')
    .update('\0')
    .update(options.tls?.ca ?? '')
    .digest('hex');
  return `${[...options.endpoints].sort().join(',')}|tls=${options.tls ? 1 : 0}|${secret}`;
}

/**
 * RedisReaders keeps one {@link RedisInfoReader} per endpoint set for the life of the operator,
 * so reconciles reuse connections; a profile whose password changed gets a new reader, and the
 * one no profile uses any more is closed by {@link RedisReaders.retain}.
 */
export class RedisReaders {
  readonly #readers = new Map<string, RedisInfoReader>();

  /** get returns the reader for this endpoint set, creating it once. */
  get(options: RedisEndpointOptions): RedisInfoReader {
    const key = endpointSetKey(options);
    let reader = this.#readers.get(key);
    if (!reader) {
      reader = new RedisInfoReader(options);
      this.#readers.set(key, reader);
    }
    return reader;
  }

  /** size is the number of open endpoint sets. */
  get size(): number {
    return this.#readers.size;
  }

  /** retain closes every reader whose endpoint set is not among `inUse`. */
  retain(inUse: readonly RedisEndpointOptions[]): void {
    const keep = new Set(inUse.map(endpointSetKey));
    for (const [key, reader] of this.#readers) {
      if (!keep.has(key)) {
        reader.close();
        this.#readers.delete(key);
      }
    }
  }

  /** close ends every connection. */
  close(): void {
    for (const reader of this.#readers.values()) reader.close();
    this.#readers.clear();
  }
}
