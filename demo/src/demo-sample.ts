/**
 * One row of the demo's live table, read from where a user would look: the API's series in
 * Prometheus (with the profile's own queries), the HPA and the tuning ConfigMap in the API
 * server, `CONFIG GET maxmemory` on a Redis node, `INFO stats` on every Redis node (evictions and
 * the cache's own hit rate since the last sample, without Prometheus's 30 s window), and the
 * profile's status.
 */
import { AutoscalingV2Api, CoreV1Api, CustomObjectsApi, EventsV1Api } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { GROUP, PLURAL, VERSION } from '../../operator/src/api/v1alpha1/constants.ts';
import type { Decision, PerformanceProfile } from '../../operator/src/api/v1alpha1/index.ts';
import { renderQuery } from '../../operator/src/metrics/signals.ts';
import type { DemoStack } from './demo-stack.ts';
import { demoQueries } from './demo-values.ts';

/** What the table shows at one moment; null is "not measured yet". */
export interface DemoSample {
  /** atSeconds since the load started. */
  readonly atSeconds: number;
  readonly phase: string;
  readonly rps: number | null;
  readonly p95Ms: number | null;
  readonly errorRatePercent: number | null;
  readonly hitRatePercent: number | null;
  readonly poolUsagePercent: number | null;
  readonly poolSize: number | null;
  readonly maxOverflow: number | null;
  readonly maxmemoryMiB: number | null;
  /** evictedKeysPerSecond is the keys Redis evicted per second since the last sample, all nodes. */
  readonly evictedKeysPerSecond: number | null;
  /** redisHitRatePercent is keyspace hits / lookups since the last sample, all nodes. */
  readonly redisHitRatePercent: number | null;
  readonly minReplicas: number | null;
  readonly maxReplicas: number | null;
  readonly desiredReplicas: number | null;
  /** lastDecision is the profile's status.lastDecision line. */
  readonly lastDecision: string | null;
}

/** An Event about the profile. */
export interface ProfileEventSeen {
  readonly time: string;
  readonly type: string;
  readonly reason: string;
  readonly note: string;
}

/** A sampler bound to one stack. */
export interface DemoSampler {
  sample(atSeconds: number, phase: string): Promise<DemoSample>;
  /** decisions is the profile's status history (oldest first). */
  decisions(): Promise<Decision[]>;
  /** events are the Events about the profile, as `kubectl describe pp` lists them. */
  events(): Promise<ProfileEventSeen[]>;
  close(): void;
}

async function instant(stack: DemoStack, query: string | undefined): Promise<number | null> {
  if (query === undefined) return null;
  try {
    const data = await stack.prometheus.query(query);
    const value = (data.result[0] as { value?: [number, string] } | undefined)?.value?.[1];
    const n = Number(value);
    return value === undefined || !Number.isFinite(n) ? null : n;
  } catch {
    return null;
  }
}

/** The INFO stats counters a sample compares with the previous one. */
interface RedisCounters {
  readonly atMs: number;
  readonly hits: number;
  readonly misses: number;
  readonly evicted: number;
}

/** infoCounter reads one counter of an INFO reply. */
function infoCounter(info: string, field: string): number {
  return Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
}

/** createSampler reads the stack; each sample takes a few queries, three API calls and INFO on each Redis node. */
export function createSampler(stack: DemoStack): DemoSampler {
  const kube = stack.cp.kubeConfig;
  const hpas = kube.makeApiClient(AutoscalingV2Api);
  const core = kube.makeApiClient(CoreV1Api);
  const custom = kube.makeApiClient(CustomObjectsApi);
  const [node] = stack.redis.nodes;
  const redis = new Redis({
    host: node?.host,
    port: node?.port,
    password: stack.redis.password,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  redis.on('error', () => {});
  const nodes = stack.redis.nodes.map((n) => {
    const client = new Redis({
      host: n.host,
      port: n.port,
      password: stack.redis.password,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    client.on('error', () => {});
    return client;
  });
  let lastCounters: RedisCounters | undefined;
  const redisCounters = async (): Promise<RedisCounters | undefined> => {
    try {
      const infos = await Promise.all(nodes.map((c) => c.info('stats')));
      const sum = (field: string) => infos.reduce((total, info) => total + infoCounter(info, field), 0);
      const counters = {
        atMs: performance.now(),
        hits: sum('keyspace_hits'),
        misses: sum('keyspace_misses'),
        evicted: sum('evicted_keys'),
      };
      return Object.values(counters).every(Number.isFinite) ? counters : undefined;
    } catch {
      return undefined;
    }
  };
  const queries = demoQueries(stack.values.api.resources.cpuRequestMillis);
  const vars = { namespace: stack.namespace, deployment: stack.name };
  const profile = async () =>
    (await custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: stack.namespace,
      plural: PLURAL,
      name: stack.name,
    })) as PerformanceProfile;
  const maxmemory = async () => {
    try {
      const reply = (await redis.config('GET', 'maxmemory')) as string[];
      return Math.round(Number(reply[1]) / 2 ** 20);
    } catch {
      return null;
    }
  };
  return {
    async sample(atSeconds, phase) {
      const [hpa, cm, pp, mib, counters] = await Promise.all([
        hpas
          .readNamespacedHorizontalPodAutoscaler({ namespace: stack.namespace, name: stack.name })
          .catch(() => undefined),
        core
          .readNamespacedConfigMap({ namespace: stack.namespace, name: stack.tuningConfigMapName })
          .catch(() => undefined),
        profile().catch(() => undefined),
        maxmemory(),
        redisCounters(),
      ]);
      const previous = lastCounters;
      lastCounters = counters;
      const seconds = counters && previous ? (counters.atMs - previous.atMs) / 1000 : 0;
      const lookups =
        counters && previous ? counters.hits + counters.misses - previous.hits - previous.misses : 0;
      const evictedKeysPerSecond =
        counters && previous && seconds > 0
          ? Math.max(0, counters.evicted - previous.evicted) / seconds
          : null;
      const redisHitRatePercent =
        counters && previous && lookups > 0 ? (100 * (counters.hits - previous.hits)) / lookups : null;
      // The pool in force is the one the API process reports, not the ConfigMap it has yet to read.
      const [poolSize, maxOverflow] = await Promise.all([
        instant(stack, `max(database_pool_size{namespace="${stack.namespace}",job="${stack.name}"})`),
        instant(stack, `max(database_pool_max_overflow{namespace="${stack.namespace}",job="${stack.name}"})`),
      ]);
      const capacity =
        poolSize !== null && maxOverflow !== null
          ? poolSize + maxOverflow
          : Number(cm?.data?.DB_POOL_SIZE ?? Number.NaN) + Number(cm?.data?.DB_MAX_OVERFLOW ?? 0);
      const q = (signal: keyof typeof queries, poolCapacity?: number) =>
        renderQuery(queries[signal], { ...vars, ...(poolCapacity ? { poolCapacity } : {}) });
      const [rps, p95Ms, errorRatePercent, hitRatePercent, poolUsagePercent] = await Promise.all([
        instant(stack, q('requestsPerSecond')),
        instant(stack, q('p95LatencyMs')),
        instant(stack, q('errorRatePercent')),
        instant(stack, q('cacheHitRatePercent')),
        instant(stack, Number.isFinite(capacity) ? q('poolUsagePercent', capacity) : undefined),
      ]);
      return {
        atSeconds,
        phase,
        rps,
        p95Ms,
        errorRatePercent,
        hitRatePercent,
        poolUsagePercent,
        poolSize,
        maxOverflow,
        maxmemoryMiB: mib,
        evictedKeysPerSecond,
        redisHitRatePercent,
        minReplicas: hpa?.spec?.minReplicas ?? null,
        maxReplicas: hpa?.spec?.maxReplicas ?? null,
        desiredReplicas: hpa?.status?.desiredReplicas ?? null,
        lastDecision: pp?.status?.lastDecision ?? null,
      };
    },
    async decisions() {
      return (await profile().catch(() => undefined))?.status?.history ?? [];
    },
    async events() {
      const list = await kube
        .makeApiClient(EventsV1Api)
        .listNamespacedEvent({ namespace: stack.namespace, fieldSelector: `regarding.name=${stack.name}` });
      return list.items
        .filter((e) => e.regarding?.kind === 'PerformanceProfile')
        .map((e) => ({
          time: new Date(e.eventTime ?? e.metadata?.creationTimestamp ?? 0).toISOString(),
          type: e.type ?? '',
          reason: e.reason ?? '',
          note: e.note ?? '',
        }));
    },
    close() {
      redis.disconnect();
      for (const c of nodes) c.disconnect();
    },
  };
}
