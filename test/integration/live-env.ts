/**
 * The live loop's environment, shared by live-loop.test.ts, live-faults.test.ts and
 * live-ahead.test.ts: a control plane with kube-controller-manager, the scheduler and kwok (the
 * real HPA controller acts), Debian's Prometheus scraping one test exporter per target stack (the
 * operator reads the series only through Prometheus; a past can be backfilled into it before it
 * starts), a 6-node Redis Cluster and standalone redis-servers, the CRD, a
 * namespace with the Redis password Secret and the toolkit's Redis ConfigMap handed over to
 * perfpilot, and operators started in-process as main starts them, with their logs captured.
 */
import { Writable } from 'node:stream';
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  EventsV1Api,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { type Cluster, Redis } from 'ioredis';
import {
  API_VERSION,
  DEFAULT_PROMQL,
  KIND,
  type PerformanceProfile,
  REDIS_MAXMEMORY_CONFIG_KEY,
} from '../../operator/src/api/v1alpha1/index.ts';
import {
  type LeaderElectionOptions,
  type RunningOperator,
  startOperator,
} from '../../operator/src/controller/operator.ts';
import { createLogger } from '../../operator/src/telemetry/logger.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import {
  driveRiskApiSeries,
  type RiskApiTraffic,
  startTestExporter,
  type TestExporter,
} from '../cluster/exporter.ts';
import { waitFor } from '../cluster/processes.ts';
import { type PrometheusServer, startPrometheus } from '../cluster/prometheus.ts';
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '../cluster/redis.ts';
import { claimTunedFields, createTargetStack, installCrd, profileApi, type StackKnobs } from './fixtures.ts';

export const MIB = 1024 * 1024;
/** The Redis ConfigMap of the cluster, its maxmemory.conf handed over to perfpilot. */
export const REDIS_CLUSTER_CONFIG_MAP = 'redis-cluster-config';
/** The cluster's nodes start at this maxmemory (MiB), with allkeys-lru. */
export const CLUSTER_START_MIB = 16;
/** The stacks' starting knobs: inside the default budget of 90 connections. */
export const START: StackKnobs = { poolSize: 5, maxOverflow: 0, minReplicas: 2, maxReplicas: 4 };
/**
 * Busy: 2,000 rps on two pods at 100 % CPU, more than the HPA's bounds of 2..4 plan for. The
 * trough it shows needs 2.6 replicas at the HPA's target and tolerance, so a reading up to 20 %
 * low (a scrape window two 100 ms ticks short, on a loaded machine) still asks for a floor of 3.
 */
export const BUSY: Partial<RiskApiTraffic> = {
  requestsPerTick: 200,
  queriesPerTick: 20,
  cpuSecondsPerTick: 0.1,
  activeConnections: [1, 1],
};

/**
 * The default queries on irate() over 20 s instead of rate() over 2 and 5 minutes, for tests whose
 * decisions hang on rates (request rate, CPU): the test Prometheus has run for about a minute when
 * they start, and rate() over a window it has only partly scraped reads low (it divides by the
 * whole window), while irate() reads the last two scrapes (1 s apart), right at once. The queries
 * that are not rates (gauges: pool usage, active connections, ready replicas) stay the defaults,
 * with the freshness check a default query gets.
 */
export const SHORT_WINDOW_QUERIES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(DEFAULT_PROMQL)
    .filter(([, q]) => /\[(2|5)m\]/.test(q))
    .map(([signal, q]) => [signal, q.replaceAll('rate(', 'irate(').replaceAll(/\[(2|5)m\]/g, '[20s]')]),
);

/** A target stack: the Deployment, HPA and tuning ConfigMap `name`, and its exporter's series. */
export interface LiveStack {
  readonly name: string;
  readonly series?: Partial<RiskApiTraffic>;
  /** knobs are the stack's starting knobs. @default START */
  readonly knobs?: StackKnobs;
  /**
   * objects: create the stack's Deployment, HPA and tuning ConfigMap and hand the tuned fields to
   * perfpilot (false: only the exporter's series start, and the test creates the objects).
   * @default true
   */
  readonly objects?: boolean;
}

/** Options of startLiveEnv. */
export interface LiveEnvOptions {
  readonly namespace: string;
  /** password of every Redis node, in the Secret `redis-auth`. */
  readonly password: string;
  readonly stacks: readonly LiveStack[];
  /** standalone names the standalone redis-servers to start, with their maxmemory in MiB. */
  readonly standalone: Readonly<Record<string, number>>;
  /**
   * prometheusBackfill is OpenMetrics text written into Prometheus's TSDB before it starts
   * (test/cluster/prometheus.ts counterBackfill), kept for 16 days: a past the operator finds there.
   * @default none
   */
  readonly prometheusBackfill?: string;
}

/** Where a profile's Redis is: the cluster, or a standalone server by its name in the options. */
export type RedisChoice = 'cluster' | string;

/** Extra parts of a profile built by LiveEnv.profileFor. */
export interface ProfileExtras {
  /** queries override the PromQL per signal. @default SHORT_WINDOW_QUERIES */
  readonly queries?: Record<string, string>;
  /** stalenessSeconds of the Prometheus source. @default the CRD's */
  readonly stalenessSeconds?: number;
  /** redisMaxmemory bounds. @default 16..96 MiB of a 128 MiB container */
  readonly redisMaxmemory?: { minMiB: number; maxMiB: number; containerMemoryLimitMiB: number };
  /** knobs are the other knobs' bounds (spec.knobs). @default the CRD's */
  readonly knobs?: Record<string, unknown>;
  /** presets are the Prometheus source's `preset` and `poolPreset`. @default the CRD's (PerfPilot) */
  readonly presets?: { readonly preset?: string; readonly poolPreset?: string };
}

/**
 * PINNED_EXCEPT_MAXMEMORY bounds the pool and the replicas to the stack's values of
 * PINNED_STACK_KNOBS, so that maxmemory is the only knob a test's profile may change.
 */
export const PINNED_EXCEPT_MAXMEMORY = {
  poolSize: { min: 5, max: 5 },
  maxOverflow: { min: 0, max: 0 },
  replicas: { floor: 2, ceiling: 2 },
};
/** PINNED_STACK_KNOBS are a stack's knobs inside PINNED_EXCEPT_MAXMEMORY. */
export const PINNED_STACK_KNOBS: StackKnobs = { poolSize: 5, maxOverflow: 0, minReplicas: 2, maxReplicas: 2 };

/** A running live environment. */
export interface LiveEnv {
  readonly namespace: string;
  readonly cp: ControlPlane;
  readonly prometheus: PrometheusServer;
  readonly cluster: RedisCluster;
  readonly standalone: ReadonlyMap<string, RedisServer>;
  readonly profiles: ReturnType<typeof profileApi>;
  readonly exporters: ReadonlyMap<string, TestExporter>;
  readonly traffic: ReadonlyMap<string, ReturnType<typeof driveRiskApiSeries>>;
  /** logLines are every line the operators started here logged, in order. */
  readonly logLines: string[];
  /** clusterSeed is the cluster's first node, the one endpoint profiles name. */
  readonly clusterSeed: string;
  /** profileFor is a profile in `mode` for the stack `name`, read from Prometheus and `redis`. */
  profileFor(
    name: string,
    mode: 'Observe' | 'Recommend' | 'Auto',
    redis: RedisChoice,
    extra?: ProfileExtras,
  ): PerformanceProfile;
  /** startOperator starts an operator in-process on the namespace, as main does. */
  startOperator(
    identity: string,
    options?: { leaderElection?: LeaderElectionOptions; logLines?: string[] },
  ): Promise<RunningOperator>;
  hpaOf(name: string): Promise<{ minReplicas?: number; maxReplicas: number } | undefined>;
  poolOf(name: string): Promise<Record<string, string> | undefined>;
  deploymentOf(name: string): ReturnType<AppsV1Api['readNamespacedDeployment']>;
  /** eventsOf lists the Events regarding the profile `name`: reason, note and reporting instance. */
  eventsOf(name: string): Promise<{ reason: string; note: string; instance: string }[]>;
  /** clusterMaxmemory is maxmemory in bytes on each cluster node, in node order. */
  clusterMaxmemory(): Promise<number[]>;
  /** maxmemoryOf is maxmemory in bytes of the standalone server `name`. */
  maxmemoryOf(name: string): Promise<number>;
  /** redisConfigMap is maxmemory.conf of the cluster's Redis ConfigMap. */
  redisConfigMap(): Promise<string | undefined>;
  /** waitForProfile polls the profile until `check` passes; its last failure names the conditions seen. */
  waitForProfile(
    name: string,
    what: string,
    check: (p: PerformanceProfile) => boolean,
    timeoutMs: number,
  ): Promise<PerformanceProfile>;
  /** stopPrometheus stops Prometheus for good (stop() then leaves it). */
  stopPrometheus(): Promise<void>;
  /** stop ends every operator, process and exporter started here. */
  stop(): Promise<void>;
}

/** condition finds a condition of a profile by type. */
export const condition = (p: PerformanceProfile, type: string) =>
  p.status?.conditions?.find((c) => c.type === type);

/** maxmemoryAt reads maxmemory (bytes) of one Redis node. */
export async function maxmemoryAt(host: string, port: number, password: string): Promise<number> {
  const client = new Redis({ host, port, password, lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    await client.connect();
    const [, value] = (await client.config('GET', 'maxmemory')) as [string, string];
    return Number(value);
  } finally {
    client.disconnect();
  }
}

/** startLiveEnv starts everything, creates the stacks and waits until Prometheus has rates for each. */
export async function startLiveEnv(options: LiveEnvOptions): Promise<LiveEnv> {
  const ns = options.namespace;
  const exporters = new Map<string, TestExporter>();
  const traffic = new Map<string, ReturnType<typeof driveRiskApiSeries>>();
  const standalone = new Map<string, RedisServer>();
  const operators = new Set<RunningOperator>();
  const logLines: string[] = [];
  let prometheusStopped = false;
  for (const stack of options.stacks) exporters.set(stack.name, await startTestExporter());
  const prometheus = await startPrometheus({
    scrapeTargets: [...exporters].map(([job, e]) => ({ address: e.address, job, labels: { namespace: ns } })),
    ...(options.prometheusBackfill !== undefined
      ? { backfill: options.prometheusBackfill, retentionTime: '16d' }
      : {}),
  });
  const [cp, cluster] = await Promise.all([
    startControlPlane({ controllers: true }),
    startRedisCluster({ masters: 3, replicasPerMaster: 1, password: options.password }),
  ]);
  for (const [name, mib] of Object.entries(options.standalone)) {
    const server = await startRedis({ password: options.password });
    standalone.set(name, server);
    const client = server.client();
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await client.config('SET', 'maxmemory', String(mib * MIB));
    client.disconnect();
  }
  for (const node of cluster.nodes) {
    const client = new Redis({ host: node.host, port: node.port, password: options.password });
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await client.config('SET', 'maxmemory', String(CLUSTER_START_MIB * MIB));
    client.disconnect();
  }
  await installCrd(cp);
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'redis-auth' }, stringData: { password: options.password } },
  });
  // The toolkit's Redis ConfigMap, its maxmemory.conf handed over to perfpilot.
  await KubernetesObjectApi.makeApiClient(cp.kubeConfig).patch(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: REDIS_CLUSTER_CONFIG_MAP, namespace: ns },
      data: { [REDIS_MAXMEMORY_CONFIG_KEY]: `maxmemory ${CLUSTER_START_MIB}mb\n` },
    } as KubernetesObject,
    undefined,
    undefined,
    'perfpilot',
    true,
    PatchStrategy.ServerSideApply,
  );
  for (const stack of options.stacks) {
    const knobs = stack.knobs ?? START;
    if (stack.objects !== false) {
      await createTargetStack(cp.kubeConfig, ns, stack.name, knobs);
      await claimTunedFields(cp.kubeConfig, ns, stack.name, knobs);
    }
    const exporter = exporters.get(stack.name);
    if (!exporter) throw new Error(`no exporter for ${stack.name}`);
    traffic.set(stack.name, driveRiskApiSeries(exporter, stack.name, stack.series ?? {}));
  }
  // Rates over [5m] need two scrapes of moving counters, for every job (by its pool's names).
  for (const stack of options.stacks) {
    const checkouts = {
      PerfPilot: 'database_pool_wait_seconds_count',
      HikariCP: 'hikaricp_connections_acquire_seconds_count',
      GoDatabaseSQL: 'go_sql_wait_count_total',
    }[stack.series?.poolNames ?? 'PerfPilot'];
    await prometheus.waitForSeries(`rate(${checkouts}{job="${stack.name}"}[5m]) > 0`);
  }
  const profiles = profileApi(cp.kubeConfig);
  const clusterSeed = `127.0.0.1:${cluster.nodes[0]?.port}`;

  const endpointOf = (redis: RedisChoice) => {
    if (redis === 'cluster') return clusterSeed;
    const server = standalone.get(redis);
    if (!server) throw new Error(`no standalone Redis named ${redis}`);
    return `${server.host}:${server.port}`;
  };

  return {
    namespace: ns,
    cp,
    prometheus,
    cluster,
    standalone,
    profiles,
    exporters,
    traffic,
    logLines,
    clusterSeed,
    profileFor: (name, mode, redis, extra = {}) =>
      ({
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { namespace: ns, name },
        spec: {
          targetRef: { name },
          mode,
          metrics: {
            prometheus: {
              url: prometheus.url,
              timeoutSeconds: 2,
              ...(extra.stalenessSeconds !== undefined ? { stalenessSeconds: extra.stalenessSeconds } : {}),
              ...extra.presets,
              queries: { ...(extra.queries ?? SHORT_WINDOW_QUERIES) },
            },
            redis: {
              endpoints: [endpointOf(redis)],
              passwordSecretRef: { name: 'redis-auth' },
              ...(redis === 'cluster' ? { configMapName: REDIS_CLUSTER_CONFIG_MAP } : {}),
            },
          },
          knobs: {
            ...extra.knobs,
            redisMaxmemory: extra.redisMaxmemory ?? { minMiB: 16, maxMiB: 96, containerMemoryLimitMiB: 128 },
          },
          // The CRD's shortest interval; a cooldown long enough that no knob moves twice in a test.
          policy: { evaluationIntervalSeconds: 10, verificationWindowSeconds: 60, cooldownSeconds: 600 },
        },
      }) as PerformanceProfile,
    startOperator: async (identity, operatorOptions = {}) => {
      const lines = operatorOptions.logLines;
      const destination = new Writable({
        write(chunk, _encoding, done) {
          logLines.push(String(chunk));
          lines?.push(String(chunk));
          done();
        },
      });
      const operator = await startOperator({
        kubeConfig: cp.kubeConfig,
        namespaces: [ns],
        identity,
        leaderElection: operatorOptions.leaderElection ?? false,
        metricsPort: 0,
        healthPort: 0,
        metricsHost: '127.0.0.1',
        logger: createLogger({ level: 'debug', destination }),
      });
      operators.add(operator);
      const stop = operator.stop;
      return {
        ...operator,
        stop: async () => {
          operators.delete(operator);
          await stop();
        },
      };
    },
    hpaOf: async (name) =>
      (
        await cp.kubeConfig
          .makeApiClient(AutoscalingV2Api)
          .readNamespacedHorizontalPodAutoscaler({ namespace: ns, name })
      ).spec,
    poolOf: async (name) =>
      (
        await cp.kubeConfig
          .makeApiClient(CoreV1Api)
          .readNamespacedConfigMap({ namespace: ns, name: `${name}-tuning` })
      ).data,
    deploymentOf: async (name) =>
      await cp.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name }),
    eventsOf: async (name) => {
      const list = await cp.kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: ns });
      return list.items
        .filter((e) => e.regarding?.name === name)
        .map((e) => ({ reason: e.reason ?? '', note: e.note ?? '', instance: e.reportingInstance ?? '' }));
    },
    clusterMaxmemory: async () =>
      await Promise.all(cluster.nodes.map((n) => maxmemoryAt(n.host, n.port, options.password))),
    maxmemoryOf: async (name) => {
      const server = standalone.get(name);
      if (!server) throw new Error(`no standalone Redis named ${name}`);
      return await maxmemoryAt(server.host, server.port, options.password);
    },
    redisConfigMap: async () =>
      (
        await cp.kubeConfig
          .makeApiClient(CoreV1Api)
          .readNamespacedConfigMap({ namespace: ns, name: REDIS_CLUSTER_CONFIG_MAP })
      ).data?.[REDIS_MAXMEMORY_CONFIG_KEY],
    waitForProfile: async (name, what, check, timeoutMs) =>
      await waitFor(
        `${name}: ${what}`,
        async () => {
          const p = await profiles.get(ns, name);
          if (check(p)) return p;
          throw new Error(
            JSON.stringify(
              p.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`),
            ),
          );
        },
        { timeoutMs, intervalMs: 250 },
      ),
    stopPrometheus: async () => {
      prometheusStopped = true;
      await prometheus.stop();
    },
    stop: async () => {
      for (const t of traffic.values()) t.stop();
      for (const operator of [...operators]) await operator.stop();
      await cp.stop();
      if (!prometheusStopped) await prometheus.stop();
      for (const e of exporters.values()) await e.stop();
      await cluster.stop();
      for (const server of standalone.values()) await server.stop();
    },
  };
}

/**
 * evictionLoad writes 16 KiB values over a keyspace ten times the memory and reads random keys:
 * evictions, and most reads miss, so the engine wants more maxmemory.
 */
export function evictionLoad(client: Redis | Cluster): { stop(): Promise<void> } {
  const value = 'x'.repeat(16 * 1024);
  let running = true;
  const loop = (async () => {
    while (running) {
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        ops.push(client.set(`k${Math.floor(Math.random() * 20000)}`, value));
        ops.push(client.get(`k${Math.floor(Math.random() * 20000)}`));
      }
      await Promise.allSettled(ops);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      client.disconnect();
    },
  };
}
