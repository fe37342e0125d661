/**
 * Redis `INFO` from every node of a standalone server or a Redis Cluster (masters and replicas,
 * discovered with `CLUSTER NODES` from the profile's seed endpoints), over the operator's one
 * connection pool (redis/connections.ts), which the maxmemory actuator shares: one
 * connection per node, whichever of the two asks. I/O only: parsing and rates are redis-info.ts's.
 */
import { RedisConnections, type RedisEndpointSet } from '../redis/connections.ts';
import { UnknownReason, type UnknownSignal, unknown } from './prometheus-result.ts';
import { aggregateRedis, type NodeReading, parseRedisInfo, type RedisMeasurement } from './redis-info.ts';

/**
 * How to reach a set of Redis nodes and read them: the connection pool's endpoint set (endpoints
 * or Sentinels, ACL user, password, TLS and CA) and the reader's own timings.
 */
export interface RedisEndpointOptions extends RedisEndpointSet {
  /**
   * secondReadingDelayMs: when a node has no earlier reading young enough for a rate, it is read
   * twice this far apart. @default 1000
   */
  readonly secondReadingDelayMs?: number;
  /** maxReadingAgeSeconds: an earlier reading older than this is not used for rates. @default 600 */
  readonly maxReadingAgeSeconds?: number;
}

/** endpointSet is the connection pool's name for these options: the options without the timings. */
function endpointSet(options: RedisEndpointOptions): RedisEndpointSet {
  const { secondReadingDelayMs: _delay, maxReadingAgeSeconds: _age, ...set } = options;
  return set;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * RedisInfoReader reads INFO from every node behind a set of endpoints, on the shared
 * connections, keeping each node's last reading for rates.
 */
export class RedisInfoReader {
  readonly #options: RedisEndpointOptions;
  readonly #set: RedisEndpointSet;
  readonly #connections: RedisConnections;
  readonly #last = new Map<string, NodeReading>();

  constructor(options: RedisEndpointOptions, connections: RedisConnections) {
    this.#options = options;
    this.#set = endpointSet(options);
    this.#connections = connections;
  }

  /** nodes lists every node to read: the cluster's (from the first seed that answers) or the seeds. */
  async #nodes(): Promise<{ nodes: string[]; failing: string[]; errors: UnknownSignal[] }> {
    const topology = await this.#connections.discover(this.#set);
    const errors = topology.unreachable.map(
      (u) => unknown(`redis ${u.address}`, UnknownReason.Unanswered, `unreachable: ${u.error}`).unknown,
    );
    return {
      nodes: topology.nodes.filter((n) => !n.failing).map((n) => n.address),
      failing: topology.nodes.filter((n) => n.failing).map((n) => n.address),
      // In a cluster a seed that did not answer is listed (and read) by CLUSTER NODES; standalone, it is a node down.
      errors: topology.cluster && topology.nodes.length > 0 ? [] : errors,
    };
  }

  async #readNode(node: string, nowSeconds: () => number): Promise<NodeReading> {
    const text = String(await this.#connections.command(this.#set, node, ['INFO']));
    return { node, atSeconds: nowSeconds(), info: parseRedisInfo(text) };
  }

  /**
   * read measures every node: INFO now, against the node's last reading (or a second reading
   * `secondReadingDelayMs` later when there is none young enough). `nowSeconds` is the clock of the
   * readings. A node that fails or that the cluster flags as failing is unknown, by name.
   */
  async read(nowSeconds: () => number): Promise<RedisMeasurement> {
    const { nodes, failing, errors } = await this.#nodes();
    const unknowns: UnknownSignal[] = [...errors];
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

  /** close ends this endpoint set's connections. */
  close(): void {
    this.#connections.release(this.#set);
  }
}

/** The key of an endpoint set: the same seeds (or Sentinels), credentials and TLS share one reader. */
function endpointSetKey(options: RedisEndpointOptions): string {
  const sentinel = options.sentinel
    ? [options.sentinel.masterName, [...options.sentinel.endpoints].sort(), options.sentinel.password ?? '']
    : null;
  return JSON.stringify([
    [...options.endpoints].sort(),
    sentinel,
    options.username ?? '',
    options.password ?? '',
    options.tls ?? false,
    options.ca ?? '',
  ]);
}

/**
 * RedisReaders keeps one {@link RedisInfoReader} per endpoint set for the life of the operator,
 * so reconciles reuse connections; a profile whose password changed gets a new reader, and the
 * one no profile uses any more is closed by {@link RedisReaders.retain}. The connections are the
 * ones given (the operator's, shared with the actuators), else its own.
 */
export class RedisReaders {
  readonly #readers = new Map<string, RedisInfoReader>();
  readonly #connections: RedisConnections;
  readonly #ownsConnections: boolean;

  constructor(connections?: RedisConnections) {
    this.#connections = connections ?? new RedisConnections();
    this.#ownsConnections = connections === undefined;
  }

  /** get returns the reader for this endpoint set, creating it once. */
  get(options: RedisEndpointOptions): RedisInfoReader {
    const key = endpointSetKey(options);
    let reader = this.#readers.get(key);
    if (!reader) {
      reader = new RedisInfoReader(options, this.#connections);
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

  /** close ends every reader's connections (all of them, when the connections are its own). */
  close(): void {
    for (const reader of this.#readers.values()) reader.close();
    this.#readers.clear();
    if (this.#ownsConnections) void this.#connections.close();
  }
}
