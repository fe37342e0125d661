/**
 * Redis `INFO`, pure: parsing one node's answer, rates from two readings of a node (a restarted
 * node's counters start again from zero: that is a reset, not a negative rate), and the cluster's
 * signals from every node's rates.
 */
import type { RedisSignals } from '../tuning/types.ts';
import { UnknownReason, type UnknownSignal, unknown } from './prometheus-result.ts';

/** The fields of one node's INFO the operator uses. */
export interface RedisNodeInfo {
  /** role: `master` or `replica` (Redis says `slave` before 5; both read as replica). */
  readonly role: 'master' | 'replica';
  /** runId changes when the node restarts. */
  readonly runId: string;
  /** uptimeSeconds since the node started. */
  readonly uptimeSeconds: number;
  readonly usedMemoryBytes: number;
  /** maxmemoryBytes: 0 means no limit. */
  readonly maxmemoryBytes: number;
  readonly keyspaceHits: number;
  readonly keyspaceMisses: number;
  readonly evictedKeys: number;
  readonly expiredKeys: number;
  readonly connectedClients: number;
}

const NUMERIC_FIELDS = {
  uptimeSeconds: 'uptime_in_seconds',
  usedMemoryBytes: 'used_memory',
  maxmemoryBytes: 'maxmemory',
  keyspaceHits: 'keyspace_hits',
  keyspaceMisses: 'keyspace_misses',
  evictedKeys: 'evicted_keys',
  expiredKeys: 'expired_keys',
  connectedClients: 'connected_clients',
} as const;

/**
 * parseRedisInfo reads the `key:value` lines of `INFO` (all sections or `INFO server memory stats
 * clients replication`). Throws naming the first field that is missing or not a number.
 */
export function parseRedisInfo(text: string): RedisNodeInfo {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const numbers = {} as Record<keyof typeof NUMERIC_FIELDS, number>;
  for (const [name, field] of Object.entries(NUMERIC_FIELDS) as [keyof typeof NUMERIC_FIELDS, string][]) {
    const raw = fields.get(field);
    const value = raw === undefined ? Number.NaN : Number(raw);
    if (raw === undefined || raw === '' || !Number.isFinite(value) || value < 0) {
      throw new Error(`INFO field ${field} is ${raw === undefined ? 'missing' : `not a count: "${raw}"`}`);
    }
    numbers[name] = value;
  }
  const role = fields.get('role');
  if (role !== 'master' && role !== 'slave' && role !== 'replica') {
    throw new Error(`INFO field role is ${role === undefined ? 'missing' : `"${role}"`}`);
  }
  return { role: role === 'master' ? 'master' : 'replica', runId: fields.get('run_id') ?? '', ...numbers };
}

/** One node's INFO, when it was read (seconds on the caller's clock). */
export interface NodeReading {
  /** node is `host:port`. */
  readonly node: string;
  readonly atSeconds: number;
  readonly info: RedisNodeInfo;
}

/** Per-second rates of one node's counters between two readings. */
export interface NodeRates {
  readonly hitsPerSecond: number;
  readonly missesPerSecond: number;
  readonly evictedKeysPerSecond: number;
  readonly expiredKeysPerSecond: number;
  /** reset is true when the node restarted (or its stats were reset) between the readings. */
  readonly reset: boolean;
}

/**
 * nodeRates: (later − earlier) / elapsed per counter. When the node restarted (another run id)
 * or any counter went down (`CONFIG RESETSTAT`), the counters began again from zero within the
 * interval, so the increase is the later value itself, over the shorter of the interval and the
 * node's uptime, as Prometheus's `rate()` treats a counter reset. Undefined without elapsed time.
 */
export function nodeRates(earlier: NodeReading, later: NodeReading): NodeRates | undefined {
  const elapsed = later.atSeconds - earlier.atSeconds;
  if (!(elapsed > 0)) return undefined;
  const a = earlier.info;
  const b = later.info;
  const reset =
    a.runId !== b.runId ||
    b.keyspaceHits < a.keyspaceHits ||
    b.keyspaceMisses < a.keyspaceMisses ||
    b.evictedKeys < a.evictedKeys ||
    b.expiredKeys < a.expiredKeys;
  const window = reset ? Math.max(Math.min(elapsed, b.uptimeSeconds), 1) : elapsed;
  const rate = (before: number, after: number) => (reset ? after : after - before) / window;
  return {
    hitsPerSecond: rate(a.keyspaceHits, b.keyspaceHits),
    missesPerSecond: rate(a.keyspaceMisses, b.keyspaceMisses),
    evictedKeysPerSecond: rate(a.evictedKeys, b.evictedKeys),
    expiredKeysPerSecond: rate(a.expiredKeys, b.expiredKeys),
    reset,
  };
}

/** The cluster's Redis signals, with what could not be measured. */
export interface RedisMeasurement {
  /** signals for the engine, when every node gave two readings. */
  readonly signals?: RedisSignals;
  /** connectedClients summed over nodes. */
  readonly connectedClients?: number;
  /** nodes read, by role. */
  readonly masters: number;
  readonly replicas: number;
  /** unknown lists what is missing, naming the node. */
  readonly unknown: readonly UnknownSignal[];
}

/**
 * aggregateRedis turns every node's two readings into the engine's signals: used memory is the
 * fullest master's (maxmemory is set per node and the fullest node evicts first), maxmemory the
 * smallest master's; hits and misses are summed over every node (replicas serve reads too);
 * evictions and expirations over masters only (replicas follow their master's deletions).
 * Unknown when a node has a single reading or no node is a master.
 */
export function aggregateRedis(
  nodes: readonly { readonly earlier?: NodeReading; readonly later: NodeReading }[],
): RedisMeasurement {
  const unknowns: UnknownSignal[] = [];
  const masters = nodes.filter((n) => n.later.info.role === 'master');
  const replicas = nodes.length - masters.length;
  const connectedClients = nodes.reduce((sum, n) => sum + n.later.info.connectedClients, 0);
  if (masters.length === 0) {
    unknowns.push(
      unknown('redis', UnknownReason.Empty, `no master among ${nodes.length} nodes read`).unknown,
    );
    return { masters: 0, replicas, connectedClients, unknown: unknowns };
  }
  let hits = 0;
  let misses = 0;
  let evicted = 0;
  let expired = 0;
  for (const n of nodes) {
    const rates = n.earlier ? nodeRates(n.earlier, n.later) : undefined;
    if (!rates) {
      unknowns.push(
        unknown(
          `redis ${n.later.node}`,
          UnknownReason.NotEnoughReadings,
          'rates need two INFO readings, and there is one',
        ).unknown,
      );
      continue;
    }
    hits += rates.hitsPerSecond;
    misses += rates.missesPerSecond;
    if (n.later.info.role === 'master') {
      evicted += rates.evictedKeysPerSecond;
      expired += rates.expiredKeysPerSecond;
    }
  }
  if (unknowns.length > 0) return { masters: masters.length, replicas, connectedClients, unknown: unknowns };
  return {
    signals: {
      usedMemoryBytes: Math.max(...masters.map((n) => n.later.info.usedMemoryBytes)),
      maxMemoryBytes: Math.min(...masters.map((n) => n.later.info.maxmemoryBytes)),
      hitsPerSecond: hits,
      missesPerSecond: misses,
      evictedKeysPerSecond: evicted,
      expiredKeysPerSecond: expired,
    },
    masters: masters.length,
    replicas,
    connectedClients,
    unknown: [],
  };
}
