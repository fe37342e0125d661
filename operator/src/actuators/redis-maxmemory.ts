/**
 * The maxmemory actuator and observer. `CONFIG SET maxmemory <bytes>` on every node of a Redis
 * Cluster (masters and replicas: a replica promoted by a failover must not come up with another
 * limit), of a standalone deployment, or of a Sentinel-managed one (the master and replicas the
 * Sentinels name now), read back with `CONFIG GET` and compared in bytes, and retried on a node
 * that disagrees; then the value is persisted (a ConfigMap key holding `maxmemory <n>mb` or a
 * whole redis.conf, or `CONFIG REWRITE` on the nodes), so a restarted node keeps it. A node that
 * is down is named in the result; the next call sets it once it is back, so no node stays
 * divergent. A node that refuses CONFIG (renamed, or denied by ACL, as managed services do) is
 * named too: there maxmemory is read from INFO and only recommended.
 */
import {
  LAST_CHANGE_ANNOTATION,
  type MaxMemoryPersistence,
  maxMemoryPersistenceOf,
  RedisConfigMapFormat,
  type RedisPersist,
} from '../api/v1alpha1/index.ts';
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
import { rewriteMaxMemoryLine } from './redis-conf.ts';
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
  /** namespace holds the password Secrets and the Redis ConfigMap. */
  readonly namespace: string;
  /** endpoints are the `host:port` seeds; empty when `sentinel` finds the nodes. */
  readonly endpoints: readonly string[];
  /** sentinel finds the master and replicas through Sentinel, asked at every call. */
  readonly sentinel?: {
    readonly endpoints: readonly string[];
    readonly masterName: string;
    /** passwordSecretRef names the Secret key holding the Sentinels' own password. */
    readonly passwordSecretRef?: { readonly name: string; readonly key: string };
  };
  /** username is the ACL user; without it the password is the default user's. */
  readonly username?: string;
  /** passwordSecretRef names the Secret key holding the password; without it, no AUTH. */
  readonly passwordSecretRef?: { readonly name: string; readonly key: string };
  /** configMapName is the Redis ConfigMap whose maxmemory.conf persists the value (persist's older form). */
  readonly configMapName?: string;
  /** persist says where the value is persisted (see maxMemoryPersistenceOf); without it nor configMapName, nowhere. */
  readonly persist?: RedisPersist;
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

/** How the value was persisted: in the Redis ConfigMap, or by CONFIG REWRITE on the nodes. */
export type PersistResult =
  /** object names what was written: `ConfigMap ns/name key "k"`, or `the config files of 2 nodes` (CONFIG REWRITE). */
  | { readonly kind: 'applied' | 'unchanged'; readonly object: string }
  | { readonly kind: 'notConfigured' }
  | { readonly kind: 'notFound'; readonly object: string }
  /** failed: the API server could not be asked (the nodes hold the value; the next change persists it). */
  | { readonly kind: 'failed'; readonly object: string; readonly message: string }
  | ApplyConflict;

/** What applyRedisMaxMemory did. */
export type RedisMaxMemoryResult =
  | {
      /**
       * refused: above the ceiling (or not a whole number of MiB), or every node that answered
       * refuses CONFIG (`configRefused`); nothing was touched.
       */
      readonly kind: 'refused';
      readonly requestedMiB: number;
      readonly ceilingMiB: number;
      readonly message: string;
      /**
       * configRefused names each node that refuses CONFIG (renamed, or denied by ACL: a managed
       * Redis) with Redis's own error: maxmemory is recommended there, never applied.
       */
      readonly configRefused?: readonly RedisNodeFailure[];
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
  const sentinelRef = target.sentinel?.passwordSecretRef;
  const sentinelPassword = sentinelRef
    ? await ctx.readSecret({ namespace: target.namespace, ...sentinelRef })
    : undefined;
  return {
    endpoints: target.sentinel ? [] : target.endpoints,
    ...(target.sentinel
      ? {
          sentinel: {
            endpoints: target.sentinel.endpoints,
            masterName: target.sentinel.masterName,
            ...(sentinelPassword === undefined ? {} : { password: sentinelPassword }),
          },
        }
      : {}),
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(password === undefined ? {} : { password }),
    ...(target.tls ? { tls: true } : {}),
    ...(ca === undefined ? {} : { ca }),
  };
}

/**
 * ConfigRefusedError: the node refused CONFIG itself (renamed away, or the ACL user may not run
 * it), not a node down; the message is Redis's own answer, with the node.
 */
export class ConfigRefusedError extends Error {
  override readonly name = 'ConfigRefusedError';
}

/**
 * isConfigRefusal tells a refusal of the CONFIG command (`unknown command 'CONFIG'` when it is
 * renamed, as on hosted services; `NOPERM` when the ACL denies it) from any other failure.
 */
export function isConfigRefusal(message: string): boolean {
  return /unknown command [`'"]?config\b|NOPERM|no permissions to run the [`'"]?config/i.test(message);
}

/** configCommand sends a CONFIG subcommand, throwing ConfigRefusedError when the node refuses CONFIG. */
async function configCommand(
  ctx: Pick<ActuatorContext, 'redis'>,
  set: RedisEndpointSet,
  address: string,
  args: readonly [string, ...string[]],
): Promise<unknown> {
  try {
    return await ctx.redis.command(set, address, ['CONFIG', ...args]);
  } catch (err) {
    const message = (err as Error).message;
    if (isConfigRefusal(message)) throw new ConfigRefusedError(message);
    throw err;
  }
}

async function readMaxMemory(ctx: Pick<ActuatorContext, 'redis'>, set: RedisEndpointSet, address: string) {
  const reply = await configCommand(ctx, set, address, ['GET', 'maxmemory']);
  const value = Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${address}: CONFIG GET maxmemory answered ${String(reply)}`);
  return value;
}

/** readMaxMemoryFromInfo reads maxmemory from `INFO memory`, for a node that refuses CONFIG GET. */
async function readMaxMemoryFromInfo(
  ctx: Pick<ActuatorContext, 'redis'>,
  set: RedisEndpointSet,
  address: string,
): Promise<number> {
  const info = String(await ctx.redis.command(set, address, ['INFO', 'memory']));
  const value = Number(/^maxmemory:(\d+)\r?$/m.exec(info)?.[1]);
  if (!Number.isInteger(value)) throw new Error(`${address}: INFO memory has no maxmemory field`);
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
): Promise<{ results: T[]; failed: RedisNodeFailure[]; refused: RedisNodeFailure[]; set: RedisEndpointSet }> {
  const set = await endpointSet(ctx, target);
  const topology = await ctx.redis.discover(set);
  const results: T[] = [];
  const failed = seedFailures(topology);
  const refused: RedisNodeFailure[] = [];
  await Promise.all(
    topology.nodes.map(async (node) => {
      try {
        results.push(await act(set, node));
      } catch (err) {
        const failure = { address: node.address, role: node.role, error: (err as Error).message };
        (err instanceof ConfigRefusedError ? refused : failed).push(failure);
      }
    }),
  );
  const byAddress = (a: { address: string }, b: { address: string }) => a.address.localeCompare(b.address);
  results.sort(byAddress);
  failed.sort(byAddress);
  refused.sort(byAddress);
  return { results, failed, refused, set };
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
  const {
    results: nodes,
    failed,
    refused,
    set,
  } = await onEveryNode(ctx, target, async (set, node) => {
    const beforeBytes = await readMaxMemory(ctx, set, node.address);
    let current = beforeBytes;
    for (let attempt = 1; current !== bytes && attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep((options.retryDelayMs ?? 200) * (attempt - 1));
      await configCommand(ctx, set, node.address, ['SET', 'maxmemory', String(bytes)]);
      current = await readMaxMemory(ctx, set, node.address);
    }
    if (current !== bytes) {
      throw new Error(`maxmemory reads ${current} bytes after ${attempts} attempts to set ${bytes}`);
    }
    return { address: node.address, role: node.role, beforeBytes, changed: beforeBytes !== bytes };
  });
  if (refused.length > 0 && nodes.length === 0) {
    const down = failed.map((f) => `${f.address}: ${f.error}`);
    return {
      kind: 'refused',
      requestedMiB: mib,
      ceilingMiB,
      configRefused: refused,
      message: [
        `maxmemory ${mib} MiB recommended, not applied: CONFIG refused by ${refused.map((f) => f.error).join('; ')}`,
        ...(down.length > 0 ? [`not reached: ${down.join('; ')}`] : []),
      ].join('; '),
    };
  }
  const persistence = maxMemoryPersistenceOf(target);
  // The nodes changed whatever the API server answers: a failed persist is reported, not thrown,
  // so that the change is recorded (see reconcile's unreported changes).
  const persisted =
    persistence.kind === 'configRewrite'
      ? await rewriteConfigFiles(ctx, set, nodes)
      : await persistMaxMemory(ctx, target.namespace, persistence, mib, options.record).catch(
          (err: unknown): PersistResult => ({
            kind: 'failed',
            object:
              persistence.kind === 'configMap' ? configMapObject(target.namespace, persistence) : 'nothing',
            message: err instanceof Error ? err.message : String(err),
          }),
        );
  return {
    kind: failed.length === 0 && refused.length === 0 ? 'converged' : 'partial',
    requestedMiB: mib,
    bytes,
    nodes,
    // A node that refused CONFIG beside nodes that took it does not hold the value either.
    failed: [...failed, ...refused].sort((a, b) => a.address.localeCompare(b.address)),
    persisted,
  };
}

/**
 * rewriteConfigFiles runs CONFIG REWRITE on every node that holds the value, so nodes started
 * from a config file keep it; a node started without one answers an error, which is reported.
 */
async function rewriteConfigFiles(
  ctx: Pick<ActuatorContext, 'redis'>,
  set: RedisEndpointSet,
  nodes: readonly RedisNodeValue[],
): Promise<PersistResult> {
  const failures: string[] = [];
  await Promise.all(
    nodes.map(async (node) => {
      try {
        await configCommand(ctx, set, node.address, ['REWRITE']);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }),
  );
  const object = `the config files of ${nodes.length} node${nodes.length === 1 ? '' : 's'} (CONFIG REWRITE)`;
  return failures.length === 0
    ? { kind: 'applied', object }
    : { kind: 'failed', object, message: failures.sort().join('; ') };
}

function configMapObject(namespace: string, persistence: { name: string; key: string }): string {
  return `ConfigMap ${namespace}/${persistence.name} key "${persistence.key}"`;
}

/**
 * persistMaxMemory writes the ConfigMap key by server-side apply, when it differs: the single line
 * `maxmemory <n>mb` (format Value), or the whole redis.conf with its maxmemory line rewritten
 * (format RedisConf: a key that is missing is reported, never created, as the pods read the
 * whole file from it).
 */
async function persistMaxMemory(
  ctx: Pick<ActuatorContext, 'clients'>,
  namespace: string,
  persistence: MaxMemoryPersistence,
  mib: number,
  record: string | undefined,
): Promise<PersistResult> {
  if (persistence.kind !== 'configMap') return { kind: 'notConfigured' };
  const { name, key } = persistence;
  const object = configMapObject(namespace, persistence);
  const configMap = await readIfExists(() => ctx.clients.core.readNamespacedConfigMap({ namespace, name }));
  if (!configMap) return { kind: 'notFound', object: `ConfigMap ${namespace}/${name}` };
  const live = configMap.data?.[key];
  let content: string;
  if (persistence.format === RedisConfigMapFormat.RedisConf) {
    if (live === undefined) return { kind: 'notFound', object };
    content = rewriteMaxMemoryLine(live, mib).text;
  } else {
    content = maxMemoryConf(mib);
  }
  const recorded =
    record === undefined || configMap.metadata?.annotations?.[LAST_CHANGE_ANNOTATION] === record;
  if (live === content && recorded) return { kind: 'unchanged', object };
  const result = await applyFields(
    ctx.clients,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace,
        ...recordMetadata(configMap as Parameters<typeof applyFields>[1], record),
      },
      data: { [key]: content },
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
      return 'not persisted: spec.metrics.redis.persist is not set, so a restarted node loses it';
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
  /**
   * refused are the nodes that refuse CONFIG (managed Redis): their maxmemory is read from INFO,
   * and can be recommended but not set. @default []
   */
  readonly refused?: readonly RedisNodeFailure[];
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
  const refused: RedisNodeFailure[] = [];
  const { results: nodes, failed } = await onEveryNode(ctx, target, async (set, node) => {
    let bytes: number;
    try {
      bytes = await readMaxMemory(ctx, set, node.address);
    } catch (err) {
      if (!(err instanceof ConfigRefusedError)) throw err;
      // Managed Redis: INFO still tells the limit, so the knob is measured and recommended.
      refused.push({ address: node.address, role: node.role, error: err.message });
      bytes = await readMaxMemoryFromInfo(ctx, set, node.address);
    }
    return { address: node.address, role: node.role, bytes };
  });
  refused.sort((a, b) => a.address.localeCompare(b.address));
  const values = new Set(nodes.map((n) => n.bytes));
  const [only] = values;
  return {
    nodes,
    failed,
    ...(refused.length > 0 ? { refused } : {}),
    divergent: values.size > 1,
    ...(values.size === 1 && only !== undefined ? { maxMemoryMiB: Math.floor(only / BYTES_PER_MIB) } : {}),
  };
}
