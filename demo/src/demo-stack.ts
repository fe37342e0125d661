/**
 * Starts everything the demo runs, on loopback: the test cluster with its controllers, the
 * 6-node Redis Cluster, PostgreSQL with the seed data, Prometheus scraping the risk API,
 * prometheus-adapter, the stack's objects from the toolkit's synthesis (handed over to the
 * operator as the GitOps guide's hand-over does), the risk API process reading its tuning ConfigMap
 * through a kubelet-like volume, and the operator process. stop() ends it all, newest first.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoscalingV2Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { buildStack } from '../../charts-ts/src/stack.ts';
import type { Values } from '../../charts-ts/src/values.ts';
import {
  CONFIG_HASH_ANNOTATION,
  REDIS_MAXMEMORY_CONFIG_KEY,
} from '../../operator/src/api/v1alpha1/constants.ts';
import { seedDemoData } from '../../risk-api/src/main.ts';
import { type ConfigMapVolume, configMapVolume } from '../../test/cluster/config-map-volume.ts';
import { type ControlPlane, startControlPlane } from '../../test/cluster/control-plane.ts';
import { type PostgresServer, startPostgres } from '../../test/cluster/postgres.ts';
import {
  freePort,
  holdPort,
  type ManagedProcess,
  RunDirectory,
  waitFor,
} from '../../test/cluster/processes.ts';
import { type PrometheusServer, startPrometheus } from '../../test/cluster/prometheus.ts';
import { type RedisCluster, startRedisCluster } from '../../test/cluster/redis.ts';
import { DEMO_NAMESPACE, DEMO_POLICY, DEMO_SEED_SYMBOLS, demoQueries, demoValues } from './demo-values.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const perfpilotBin = join(root, 'bin/perfpilot.js');

/** How often the demo's "kubelet" copies the tuning ConfigMap into the API's volume (the kubelet's sync is about a minute). */
export const VOLUME_SYNC_MS = 1000;

/** A running demo stack. */
export interface DemoStack {
  readonly cp: ControlPlane;
  readonly redis: RedisCluster;
  readonly postgres: PostgresServer;
  readonly prometheus: PrometheusServer;
  readonly values: Values;
  readonly namespace: string;
  /** name of the API Deployment, its HPA and the profile. */
  readonly name: string;
  readonly tuningConfigMapName: string;
  readonly apiUrl: string;
  readonly api: ManagedProcess;
  readonly operator: ManagedProcess;
  /** dir holds the applied manifests and the processes' logs. */
  readonly dir: string;
  /** pids of every process the demo started, for the check that none is left. */
  pids(): number[];
  stop(): Promise<void>;
}

type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [key: string]: unknown;
};

/** synthesizedObjects renders the stack and keeps what runs here: no Redis StatefulSet, Job or operator Deployment. */
function synthesizedObjects(values: Values, redis: RedisCluster): { crd: KubeObject[]; stack: KubeObject[] } {
  const { files } = buildStack(values);
  const objectsOf = (path: string) =>
    (files.find((f) => f.path === path)?.chart.toJson() ?? []) as KubeObject[];
  const crd = objectsOf('crds/performanceprofiles.perfpilot.dev.yaml');
  const redisConfig = objectsOf('manifests/redis-cluster.yaml').filter(
    (o) => o.kind === 'ConfigMap' && (o.data as Record<string, string>)?.[REDIS_MAXMEMORY_CONFIG_KEY],
  );
  const profiles = objectsOf('manifests/performance-profile.yaml').map((p) => {
    const spec = p.spec as {
      metrics: { prometheus: Record<string, unknown>; redis: { endpoints: string[] } };
      policy: Record<string, number>;
    };
    // The Redis nodes and the short query windows are the local run's; Services have no DNS here.
    spec.metrics.redis.endpoints = redis.nodes.map((n) => `${n.host}:${n.port}`);
    spec.metrics.prometheus.queries = demoQueries(values.api.resources.cpuRequestMillis);
    spec.policy.stabilizationWindowSeconds = DEMO_POLICY.stabilizationWindowSeconds;
    return p;
  });
  const stack = [
    ...objectsOf('manifests/namespace.yaml'),
    ...objectsOf('manifests/risk-api.yaml'),
    ...objectsOf('manifests/risk-api-hpa.yaml'),
    ...redisConfig,
    ...profiles,
  ];
  return { crd, stack };
}

/**
 * splitTunedFields splits objects for the GitOps guide's hand-over: the tuned fields at their values
 * (applied as perfpilot), and the objects without them (applied again by the demo's manager).
 */
export function splitTunedFields(objects: readonly KubeObject[]): {
  tuned: KubeObject[];
  rest: KubeObject[];
} {
  const tuned: KubeObject[] = [];
  const rest = objects.map((o) => structuredClone(o));
  const head = (o: KubeObject) => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace ?? DEMO_NAMESPACE },
  });
  for (const o of rest) {
    if (o.kind === 'HorizontalPodAutoscaler') {
      const spec = o.spec as Record<string, unknown>;
      tuned.push({ ...head(o), spec: { minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas } });
      delete spec.minReplicas;
      delete spec.maxReplicas;
    }
    if (o.kind === 'ConfigMap') {
      const data = o.data as Record<string, string>;
      const keys = ['DB_POOL_SIZE', 'DB_MAX_OVERFLOW', REDIS_MAXMEMORY_CONFIG_KEY].filter((k) => k in data);
      if (keys.length === 0) continue;
      tuned.push({ ...head(o), data: Object.fromEntries(keys.map((k) => [k, data[k]])) });
      for (const k of keys) delete data[k];
    }
    if (o.kind === 'Deployment') {
      const template = (o.spec as { template: { metadata: { annotations: Record<string, string> } } })
        .template;
      const hash = template.metadata.annotations[CONFIG_HASH_ANNOTATION];
      tuned.push({
        ...head(o),
        spec: { template: { metadata: { annotations: { [CONFIG_HASH_ANNOTATION]: hash } } } },
      });
      delete template.metadata.annotations[CONFIG_HASH_ANNOTATION];
    }
  }
  return { tuned, rest };
}

/** The stack's objects applied as the GitOps guide says: server-side, then the tuned fields handed to perfpilot. */
async function applyStack(cp: ControlPlane, dir: string, values: Values, redis: RedisCluster): Promise<void> {
  const write = (name: string, objects: readonly unknown[]) => {
    const path = join(dir, name);
    writeFileSync(path, objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n'));
    return path;
  };
  const { crd, stack } = synthesizedObjects(values, redis);
  await cp.kubectl([
    'apply',
    '--server-side',
    '--field-manager=perfpilot-demo',
    '-f',
    write('crd.yaml', crd),
  ]);
  await cp.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=30s',
    'crd/performanceprofiles.perfpilot.dev',
  ]);
  const { tuned, rest } = splitTunedFields(stack);
  await cp.kubectl([
    'apply',
    '--server-side',
    '--field-manager=perfpilot-demo',
    '-f',
    write('stack.yaml', stack),
  ]);
  await cp.kubectl(['apply', '--server-side', '--field-manager=perfpilot', '-f', write('tuned.yaml', tuned)]);
  await cp.kubectl([
    'apply',
    '--server-side',
    '--field-manager=perfpilot-demo',
    '-f',
    write('untuned.yaml', rest),
  ]);
  const secret = values.redis.passwordSecret;
  await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: values.namespace,
    body: { metadata: { name: secret.name }, stringData: { [secret.key]: redis.password } },
  });
}

/** setMaxmemory sets maxmemory and its policy on every node, as redis.conf's include of maxmemory.conf does at start. */
async function setMaxmemory(redis: RedisCluster, values: Values): Promise<void> {
  for (const node of redis.nodes) {
    const client = new Redis({
      host: node.host,
      port: node.port,
      password: redis.password,
      lazyConnect: true,
    });
    try {
      await client.connect();
      await client.config('SET', 'maxmemory', `${values.redis.maxmemoryMiB}mb`);
      await client.config('SET', 'maxmemory-policy', values.redis.maxmemoryPolicy);
    } finally {
      client.disconnect();
    }
  }
}

/**
 * syncTuningVolume copies the tuning ConfigMap's data into `volume` whenever it changes, as the
 * kubelet does for a mounted ConfigMap; returns the function that stops it.
 */
function syncTuningVolume(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  volume: ConfigMapVolume,
): () => Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  let last = '';
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const data = (await core.readNamespacedConfigMap({ namespace, name })).data ?? {};
        const text = JSON.stringify(data);
        if (text !== last) volume.update(data);
        last = text;
      } catch {
        // The API server is briefly unreachable: keep the files, as the kubelet does.
      }
      await new Promise((r) => setTimeout(r, VOLUME_SYNC_MS));
    }
  })();
  void loop;
  // Not awaited: a read in flight against an API server that is going away may take long to fail.
  return async () => {
    stopped = true;
  };
}

/** Options of startDemoStack. */
export interface DemoStackOptions {
  /** onStep is told what starts next, for the progress lines. */
  readonly onStep: (step: string) => void;
}

/** startDemoStack starts every component; on failure it stops what it started and rethrows. */
export async function startDemoStack(options: DemoStackOptions): Promise<DemoStack> {
  const { onStep } = options;
  const dir = new RunDirectory('perfpilot-demo');
  const stops: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  // Newest first; once, however many callers (Ctrl-C and the demo's own end) ask.
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      await dir.dispose();
    })());
  try {
    onStep('kube-apiserver, etcd, kube-controller-manager, kube-scheduler and kwok');
    const cpStarting = startControlPlane({ controllers: true });
    onStep('a 6-node Redis Cluster (3 masters, 3 replicas) and PostgreSQL');
    const password = crypto.randomUUID();
    onStep(
      `seed data while the control plane starts (risk-api seed --symbols ${DEMO_SEED_SYMBOLS}: 3 years of prices each, 200 portfolios)`,
    );
    const postgresStarting = startPostgres();
    // Seeding takes as long as the control plane's start, so it runs meanwhile.
    const seeded = postgresStarting.then((pg) => seedDemoData(pg.url, DEMO_SEED_SYMBOLS));
    // All settle before going on, so a failure of one still leaves the others to stop.
    const started = await Promise.allSettled([cpStarting, startRedisCluster({ password }), postgresStarting]);
    for (const s of started) if (s.status === 'fulfilled') stops.push(() => s.value.stop());
    const seeding = await Promise.allSettled([seeded]);
    const failed = [...started, ...seeding].find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [cp, redis, postgres] = started.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [
      ControlPlane,
      RedisCluster,
      PostgresServer,
    ];

    // Held until the risk API starts: Prometheus's configuration names it long before.
    const heldApiPort = await holdPort();
    stops.push(() => heldApiPort.release());
    const apiPort = heldApiPort.port;
    const name = 'risk-api';
    onStep('Prometheus scraping the risk API every second, and prometheus-adapter');
    const prometheus = await startPrometheus({
      scrapeTargets: [{ address: `127.0.0.1:${apiPort}`, job: name, labels: { namespace: DEMO_NAMESPACE } }],
      scrapeIntervalSeconds: 1,
    });
    stops.push(() => prometheus.stop());
    await cp.startMetricsAdapter({ prometheusUrl: prometheus.url, requestRateMetric: 'External' });

    const values = demoValues(prometheus.url);
    onStep(
      'the stack from the toolkit’s synthesis: CRD, risk API Deployment, HPA, tuning ConfigMap, profile',
    );
    await applyStack(cp, dir.path, values, redis);
    await setMaxmemory(redis, values);

    const tuningConfigMapName = `${values.api.name}-tuning`;
    const tuning =
      (
        await cp.kubeConfig
          .makeApiClient(CoreV1Api)
          .readNamespacedConfigMap({ namespace: values.namespace, name: tuningConfigMapName })
      ).data ?? {};
    const volume = configMapVolume(tuning);
    stops.push(async () => volume.remove());
    stops.push(syncTuningVolume(cp.kubeConfig, values.namespace, tuningConfigMapName, volume));

    onStep('the risk API process, its pool tuned from the ConfigMap volume');
    const [first] = redis.nodes;
    await heldApiPort.release();
    const api = dir.start('risk-api', process.execPath, [perfpilotBin, 'risk-api'], {
      ...process.env,
      ...tuning,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      DATABASE_URL: postgres.url,
      REDIS_HOST: first?.host ?? '127.0.0.1',
      REDIS_PORT: String(first?.port),
      REDIS_PASSWORD: password,
      TUNING_CONFIG_DIR: volume.dir,
      LOG_LEVEL: 'warn',
    });
    stops.push(() => api.stop());
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitFor(
      'the risk API ready',
      async () => ((await fetch(`${apiUrl}/ready`).catch(() => undefined))?.ok ? true : undefined),
      { timeoutMs: 60_000, process: api },
    );

    onStep('the operator in Auto mode (perfpilot operator)');
    const [operatorPort, operatorHealthPort] = [await freePort(), await freePort()];
    const operator = dir.start(
      'operator',
      process.execPath,
      [
        perfpilotBin,
        'operator',
        '--kubeconfig',
        cp.kubeconfigPath,
        '--watch-namespace',
        values.namespace,
        '--metrics-port',
        String(operatorPort),
        '--health-port',
        String(operatorHealthPort),
        '--no-leader-elect',
        '--identity',
        'perfpilot-demo',
      ],
      { ...process.env, LOG_LEVEL: 'info' },
    );
    stops.push(() => operator.stop());
    await waitFor(
      'the operator ready',
      async () =>
        (await fetch(`http://127.0.0.1:${operatorHealthPort}/readyz`).catch(() => undefined))?.ok
          ? true
          : undefined,
      { timeoutMs: 60_000, process: operator },
    );
    await waitFor(
      'the HPA read by its controller',
      async () => {
        const hpa = await cp.kubeConfig
          .makeApiClient(AutoscalingV2Api)
          .readNamespacedHorizontalPodAutoscaler({ namespace: values.namespace, name });
        return hpa.status?.desiredReplicas !== undefined ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );

    return {
      cp,
      redis,
      postgres,
      prometheus,
      values,
      namespace: values.namespace,
      name,
      tuningConfigMapName,
      apiUrl,
      api,
      operator,
      dir: dir.path,
      pids: () => [api.pid, operator.pid],
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
