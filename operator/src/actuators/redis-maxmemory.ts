/**
 * The maxmemory actuator and observer. `CONFIG SET maxmemory <bytes>` on every node of a Redis
 * Cluster (masters and replicas: a replica promoted by a failover must not come up with another
 * limit) or of a standalone deployment, read back with `CONFIG GET` and compared in bytes, and
 * retried on a node that disagrees; then the value is persisted in the Redis ConfigMap's
 * `maxmemory.conf` (which redis.conf includes), so a restarted node keeps it. A node that is down
 * is named in the result; the next call sets it once it is back, so no node stays divergent.
 */
import { LAST_CHANGE_ANNOTATION, REDIS_MAXMEMORY_CONFIG_KEY } from '../api/v1alpha1/index.ts';
import type {
  RedisEndpointSet,
  RedisNode,
  RedisNodeFailure,
  RedisRole,
  RedisTopology,
} from '../redis/connections.ts';
import { maxMemoryCeilingMiB } from '../tuning/tuning-spec.ts';
import type { TuningSpec } from '../tuning/types.ts';
import type { ActuatorContext } from './context.ts';
import {
  type ApplyConflict,
  applyFields,
  conflictSummary,
  readIfExists,
  recordMetadata,
} from './server-side-apply.ts';

/** BYTES_PER_MIB: Redis reads `<n>mb` in redis.conf as n × 1024 × 1024 bytes. */
export const BYTES_PER_MIB = 1024 * 1024;

/** Where a profile's Redis is, as spec.metrics.redis names it, in the profile's namespace. */
export interface RedisTarget {
  /** namespace holds the password Secret and the Redis ConfigMap. */
  readonly namespace: string;
  /** endpoints are the `host:port` seeds. */
  readonly endpoints: readonly string[];
  /** passwordSecretRef names the Secret key holding the password; without it, no AUTH. */
  readonly passwordSecretRef?: { readonly name: string; readonly key: string };
  /** configMapName is the Redis ConfigMap whose maxmemory.conf persists the value; without it nothing is persisted. */
  readonly configMapName?: string;
  /** tls connects with TLS. @default false */
  readonly tls?: boolean;
  /** caBundleSecretRef names the Secret key holding the PEM CA that verifies the nodes over TLS. */
  readonly caBundleSecretRef?: { readonly name: string; readonly key: string };
}

/** The limit maxmemory must stay under. */
export interface MaxMemoryCeiling {
  /** tuning is the engine's spec of the profile: knobs.redisMaxmemoryMiB.max and redisMemoryLimitMiB. */
  readonly tuning: TuningSpec;
  /**
   * containerMemoryLimitsMiB are the memory limits of the Redis containers, when known; the
   * smallest of them and tuning.redisMemoryLimitMiB bounds maxmemory. @default []
   */
  readonly containerMemoryLimitsMiB?: readonly number[];
}

/**
 * redisMaxMemoryCeilingMiB is the largest maxmemory allowed: the tuning engine's ceiling
 * (0.75 × the memory limit, and the knob's max) for the smallest container memory limit.
 */
export function redisMaxMemoryCeilingMiB(ceiling: MaxMemoryCeiling): number {
  const limits = ceiling.containerMemoryLimitsMiB ?? [];
  const smallest = Math.min(ceiling.tuning.redisMemoryLimitMiB, ...limits);
  return maxMemoryCeilingMiB({ ...ceiling.tuning, redisMemoryLimitMiB: smallest });
}

/** maxMemoryConf is the content of the ConfigMap's maxmemory.conf for `mib`, as the toolkit writes it. */
export function maxMemoryConf(mib: number): string {
  return `maxmemory ${mib}mb\n`;
}

/** One node that holds the requested value after the call. */
export interface RedisNodeValue {
  readonly address: string;
  readonly role: RedisRole;
  /** beforeBytes is maxmemory as read before any change. */
  readonly beforeBytes: number;
  /** changed is true when the node was set (false: it held the value already). */
  readonly changed: boolean;
}

/** How the value was persisted in the Redis ConfigMap. */
export type PersistResult =
  | { readonly kind: 'applied' | 'unchanged'; readonly object: string }
  | { readonly kind: 'notConfigured' }
  | { readonly kind: 'notFound'; readonly object: string }
  /** failed: the API server could not be asked (the nodes hold the value; the next change persists it). */
  | { readonly kind: 'failed'; readonly object: string; readonly message: string }
  | ApplyConflict;

/** What applyRedisMaxMemory did. */
export type RedisMaxMemoryResult =
  | {
      /** refused: above the ceiling (or not a whole number of MiB); nothing was touched. */
      readonly kind: 'refused';
      readonly requestedMiB: number;
      readonly ceilingMiB: number;
      readonly message: string;
    }
  | {
      /** converged: every known node holds the value; partial: `failed` names those that do not. */
      readonly kind: 'converged' | 'partial';
      readonly requestedMiB: number;
      readonly bytes: number;
      readonly nodes: readonly RedisNodeValue[];
      readonly failed: readonly RedisNodeFailure[];
      readonly persisted: PersistResult;
    };

/** Options of applyRedisMaxMemory. */
export interface ApplyMaxMemoryOptions {
  /** attempts is how often a node that disagrees after CONFIG SET is set again. @default 3 */
  readonly attempts?: number;
  /** retryDelayMs is the wait before each further attempt. @default 200 */
  readonly retryDelayMs?: number;
  /** record is the change, for the Redis ConfigMap's LAST_CHANGE_ANNOTATION. @default the one it holds */
  readonly record?: string;
}

async function endpointSet(
  ctx: Pick<ActuatorContext, 'readSecret'>,
  target: RedisTarget,
): Promise<RedisEndpointSet> {
  const ref = target.passwordSecretRef;
  const password = ref ? await ctx.readSecret({ namespace: target.namespace, ...ref }) : undefined;
  const caRef = target.tls ? target.caBundleSecretRef : undefined;
  // The same CA as the metric sources read, or the shared pool would see two endpoint sets.
  const ca = caRef ? await ctx.readSecret({ namespace: target.namespace, ...caRef }) : undefined;
  return {
    endpoints: target.endpoints,
    ...(password === undefined ? {} : { password }),
    ...(target.tls ? { tls: true } : {}),
    ...(ca === undefined ? {} : { ca }),
  };
}

async function readMaxMemory(ctx: Pick<ActuatorContext, 'redis'>, set: RedisEndpointSet, address: string) {
  const reply = await ctx.redis.command(set, address, ['CONFIG', 'GET', 'maxmemory']);
  const value = Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${address}: CONFIG GET maxmemory answered ${String(reply)}`);
  return value;
}

/**
 * seedFailures are the failures discovery alone proves: standalone, every seed that did not
 * answer is a node down; in a cluster, a seed that did not answer is listed by CLUSTER NODES
 * and fails on its own, unless no seed answered at all.
 */
function seedFailures(topology: RedisTopology): RedisNodeFailure[] {
  return topology.cluster && topology.nodes.length > 0 ? [] : [...topology.unreachable];
}

/**
 * onEveryNode runs `act` on every node of the target at once; a node whose `act` throws is in
 * `failed` with the error's message (safe to log: see redis/connections.ts). Both lists are sorted
 * by address.
 */
async function onEveryNode<T extends { address: string }>(
  ctx: Pick<ActuatorContext, 'redis' | 'readSecret'>,
  target: RedisTarget,
  act: (set: RedisEndpointSet, node: RedisNode) => Promise<T>,
): Promise<{ results: T[]; failed: RedisNodeFailure[] }> {
  const set = await endpointSet(ctx, target);
  const topology = await ctx.redis.discover(set);
  const results: T[] = [];
  const failed = seedFailures(topology);
  await Promise.all(
    topology.nodes.map(async (node) => {
      try {
        results.push(await act(set, node));
      } catch (err) {
        failed.push({ address: node.address, role: node.role, error: (err as Error).message });
      }
    }),
  );
  results.sort((a, b) => a.address.localeCompare(b.address));
  failed.sort((a, b) => a.address.localeCompare(b.address));
  return { results, failed };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * applyRedisMaxMemory sets maxmemory to `mib` MiB on every node, verifies it, and persists it.
 * Above redisMaxMemoryCeilingMiB it is `refused` and nothing is touched. Nodes that are down or
 * keep disagreeing are in `failed` (kind `partial`), so reconcile can report Degraded; the value
 * is persisted even then, so a node that restarts comes back with it. A missing password Secret
 * or a failing API server throws.
 */
export async function applyRedisMaxMemory(
  ctx: Pick<ActuatorContext, 'clients' | 'redis' | 'readSecret'>,
  target: RedisTarget,
  mib: number,
  ceiling: MaxMemoryCeiling,
  options: ApplyMaxMemoryOptions = {},
): Promise<RedisMaxMemoryResult> {
  const ceilingMiB = redisMaxMemoryCeilingMiB(ceiling);
  if (!Number.isInteger(mib) || mib < 1 || mib > ceilingMiB) {
    return {
      kind: 'refused',
      requestedMiB: mib,
      ceilingMiB,
      message: `maxmemory ${mib} MiB refused: it must be a whole number of MiB from 1 to ${ceilingMiB} (0.75 × the smallest Redis container memory limit, and spec.knobs.redisMaxmemory.maxMiB)`,
    };
  }
  const bytes = mib * BYTES_PER_MIB;
  const attempts = options.attempts ?? 3;
  const { results: nodes, failed } = await onEveryNode(ctx, target, async (set, node) => {
    const beforeBytes = await readMaxMemory(ctx, set, node.address);
    let current = beforeBytes;
    for (let attempt = 1; current !== bytes && attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep((options.retryDelayMs ?? 200) * (attempt - 1));
      await ctx.redis.command(set, node.address, ['CONFIG', 'SET', 'maxmemory', String(bytes)]);
      current = await readMaxMemory(ctx, set, node.address);
    }
    if (current !== bytes) {
      throw new Error(`maxmemory reads ${current} bytes after ${attempts} attempts to set ${bytes}`);
    }
    return { address: node.address, role: node.role, beforeBytes, changed: beforeBytes !== bytes };
  });
  // The nodes changed whatever the API server answers: a failed persist is reported, not thrown,
  // so that the change is recorded (see reconcile's unreported changes).
  const persisted = await persistMaxMemory(ctx, target, mib, options.record).catch(
    (err: unknown): PersistResult => ({
      kind: 'failed',
      object: `ConfigMap ${target.namespace}/${target.configMapName}`,
      message: err instanceof Error ? err.message : String(err),
    }),
  );
  return {
    kind: failed.length === 0 ? 'converged' : 'partial',
    requestedMiB: mib,
    bytes,
    nodes,
    failed,
    persisted,
  };
}

/** persistMaxMemory writes maxmemory.conf of the Redis ConfigMap by server-side apply, when it differs. */
async function persistMaxMemory(
  ctx: Pick<ActuatorContext, 'clients'>,
  target: RedisTarget,
  mib: number,
  record: string | undefined,
): Promise<PersistResult> {
  const name = target.configMapName;
  if (!name) return { kind: 'notConfigured' };
  const object = `ConfigMap ${target.namespace}/${name}`;
  const configMap = await readIfExists(() =>
    ctx.clients.core.readNamespacedConfigMap({ namespace: target.namespace, name }),
  );
  if (!configMap) return { kind: 'notFound', object };
  const content = maxMemoryConf(mib);
  const recorded =
    record === undefined || configMap.metadata?.annotations?.[LAST_CHANGE_ANNOTATION] === record;
  if (configMap.data?.[REDIS_MAXMEMORY_CONFIG_KEY] === content && recorded)
    return { kind: 'unchanged', object };
  const result = await applyFields(
    ctx.clients,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: target.namespace,
        ...recordMetadata(configMap as Parameters<typeof applyFields>[1], record),
      },
      data: { [REDIS_MAXMEMORY_CONFIG_KEY]: content },
    } as Parameters<typeof applyFields>[1],
    { live: configMap as Parameters<typeof applyFields>[1] },
  );
  return result.kind === 'conflict' ? result : { kind: 'applied', object };
}

/**
 * summarizeMaxMemoryResult renders a result on one line for a condition message or an Event note:
 * how many nodes hold the value, which do not and why, and what became of the ConfigMap.
 */
export function summarizeMaxMemoryResult(result: RedisMaxMemoryResult): string {
  if (result.kind === 'refused') return result.message;
  const total = result.nodes.length + result.failed.length;
  const head = `maxmemory ${result.requestedMiB} MiB on ${result.nodes.length} of ${total} Redis nodes`;
  const failed = result.failed.map((f) => `${f.address}${f.role ? ` (${f.role})` : ''}: ${f.error}`);
  const notSet = failed.length > 0 ? [`not set on ${failed.join('; ')}`] : [];
  return [head, ...notSet, persistSummary(result.persisted)].join('; ');
}

function persistSummary(persisted: PersistResult): string {
  switch (persisted.kind) {
    case 'applied':
      return `persisted in ${persisted.object}`;
    case 'unchanged':
      return `persisted in ${persisted.object} already`;
    case 'notConfigured':
      return 'not persisted: spec.metrics.redis.configMapName is not set, so a restarted node loses it';
    case 'notFound':
      return `not persisted: ${persisted.object} not found`;
    case 'failed':
      return `not persisted in ${persisted.object}: ${persisted.message}`;
    case 'conflict':
      return `not persisted: in ${persisted.object}, ${conflictSummary(persisted.conflicts)}`;
  }
}

/** One node's maxmemory as observed. */
export interface RedisNodeMaxMemory {
  readonly address: string;
  readonly role: RedisRole;
  readonly bytes: number;
}

/** What observeRedisMaxMemory found. */
export interface RedisMaxMemoryObservation {
  /** nodes that answered, sorted by address. */
  readonly nodes: readonly RedisNodeMaxMemory[];
  /** failed are nodes (or seeds) that did not answer. */
  readonly failed: readonly RedisNodeFailure[];
  /** divergent is true when the nodes that answered do not all hold the same value. */
  readonly divergent: boolean;
  /**
   * maxMemoryMiB is the value every answering node holds, in whole MiB (rounded down), when they
   * agree; absent when they diverge or none answered. 0 means no limit.
   */
  readonly maxMemoryMiB?: number;
}

/** observeRedisMaxMemory reads maxmemory from every node (the observe step), reporting divergence. */
export async function observeRedisMaxMemory(
  ctx: Pick<ActuatorContext, 'redis' | 'readSecret'>,
  target: RedisTarget,
): Promise<RedisMaxMemoryObservation> {
  const { results: nodes, failed } = await onEveryNode(ctx, target, async (set, node) => ({
    address: node.address,
    role: node.role,
    bytes: await readMaxMemory(ctx, set, node.address),
  }));
  const values = new Set(nodes.map((n) => n.bytes));
  const [only] = values;
  return {
    nodes,
    failed,
    divergent: values.size > 1,
    ...(values.size === 1 && only !== undefined ? { maxMemoryMiB: Math.floor(only / BYTES_PER_MIB) } : {}),
  };
}
