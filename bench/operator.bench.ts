/**
 * The operator runtime on a real kube-apiserver, ours (the operator's bundle, `node dist/operator.js`
 * with the Deployment's NODE_OPTIONS and MALLOC_ARENA_MAX, its own process, as in a pod; bundled
 * afresh from the sources at the start of the run) beside a controller-runtime peer (bench/peers/controller-runtime/, a Go reconciler
 * doing the same work per profile: read the profile, its Deployment, HPA and tuning ConfigMap
 * from its cache, record the original knobs once in Auto mode, write the same status only when it changed).
 *
 * Measured for each, one operator at a time on the same API server in one run:
 * - event → status latency: a spec change of one profile until a watch sees the status report
 *   its generation, p50 and p99 of 60 changes, the operator idle otherwise;
 * - start → N profiles reconciled (N = 1000 unless PERFPILOT_BENCH_PROFILES says): the process
 *   is started with N profiles waiting and the clock runs until every one's
 *   status.observedGeneration equals its generation;
 * - API writes per minute at steady state: kube-apiserver's own request counters (mutating verbs)
 *   over 60 s after that, when nothing changes (the API server's own Leases excluded);
 * - RSS of the operator process with N profiles, read from /proc at the end of that minute.
 * - the floor under both: the same latency with no operator, the benchmark writing each status
 *   itself on seeing the change (printed below the table);
 * - ours' start-up, process start → /readyz on a namespace without profiles: the bundle beside
 *   `perfpilot operator` from the sources, 5 times each, alternately (below the table).
 * Ours also gets the Prometheus row: 100 profiles (PERFPILOT_BENCH_PROMETHEUS_PROFILES; more do
 * not fit 2 cores) with the default queries on one real Prometheus (Debian's), evaluated every
 * 10 s (the CRD's least interval, so the run stays short); the queries are Prometheus's own
 * `prometheus_http_requests_total{handler=~"/api/v1/query.*"}`, read from its /metrics before and
 * after three intervals, once every profile was reconciled once (history rebuilt). The peer
 * measures nothing, so its cell is "n/a".
 *
 * Fairness: each operator watches only its own namespaces (`ours-*`, `peer-*`), with its own
 * target stack and fresh profiles built alike. Both fleets are created before either operator
 * starts, so the API server holds the same objects while each runs; ours runs first, then the
 * peer. Only one operator process runs at a time, so the API server's counters are its alone.
 * Both reconcile 4 profiles at once (ours' default; the peer's --max-concurrent-reconciles).
 * Before the table, the benchmark checks that both wrote the same status to their latency
 * profile (times aside), so they did the same work.
 *
 * `--json` prints one object on stdout, `{"ours": M, "peer": M}` with
 * `M = {p50Ms, p99Ms, profiles1000Seconds, rssMiB, steadyWritesPerMinute}`; the table and
 * progress go to stderr then.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { GROUP, type PerformanceProfile, PLURAL, VERSION } from '../operator/src/api/v1alpha1/index.ts';
import { operatorEnvironment } from '../operator/src/node-flags.ts';
import { buildOperatorBundle } from '../scripts/operator-bundle.ts';
import { type ControlPlane, startControlPlane } from '../test/cluster/control-plane.ts';
import { createNamespace } from '../test/cluster/kube.ts';
import { freePort } from '../test/cluster/processes.ts';
import { startPrometheus } from '../test/cluster/prometheus.ts';
import { createTargetStack, installCrd, ProfileBuilder, profileApi } from '../test/integration/fixtures.ts';
import { buildControllerRuntimePeer } from './peers/controller-runtime.ts';

const profileCount = Number(process.env.PERFPILOT_BENCH_PROFILES ?? 1000);
/**
 * prometheusProfileCount is the Prometheus phase's profiles: 100 unless
 * PERFPILOT_BENCH_PROMETHEUS_PROFILES says, to keep the phase short on 2 cores. Profiles with the
 * default queries share one grouped query per signal (docs/concepts.md#how-signals-are-measured), so the
 * row's count stays about the same for more profiles.
 */
const prometheusProfileCount = Number(process.env.PERFPILOT_BENCH_PROMETHEUS_PROFILES ?? 100);
const latencySamples = 60;
const steadyWindowMs = 60_000;
/** reconcileTimeoutMs bounds the wait for N profiles; past it the row says how many were done. */
const reconcileTimeoutMs = 300_000;
/** prometheusIntervalSeconds is the Prometheus phase's evaluation interval (the CRD's minimum). */
const prometheusIntervalSeconds = 10;
const prometheusIntervals = 3;
/** CONCURRENCY is the reconciles at once of both: ours' default, given to the peer. */
const CONCURRENCY = 4;
const target = 'risk-api';

/** What the benchmark reports per operator (the `--json` object's members). */
export interface OperatorMeasures {
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** profiles1000Seconds is start → N profiles reconciled (N = 1000 by default), in seconds. */
  readonly profiles1000Seconds: number;
  readonly rssMiB: number;
  readonly steadyWritesPerMinute: number;
}

/** Details behind the measures, for the table. */
interface OperatorRun extends OperatorMeasures {
  readonly reconciled: number;
  readonly startupWrites: ReadonlyArray<readonly [string, number]>;
  readonly steadyWrites: ReadonlyArray<readonly [string, number]>;
  readonly latencyStatus: PerformanceProfile['status'];
}

/** A running operator process. */
interface Started {
  readonly child: ChildProcess;
  /** metricsUrl is its Prometheus endpoint. */
  readonly metricsUrl: string;
}

/** An operator under test: how to start its process on one namespace. */
interface Contender {
  readonly name: 'ours' | 'peer';
  /** start spawns the process and resolves once its readiness endpoint answers 200. */
  start(cp: ControlPlane, namespace: string): Promise<Started>;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * spawnReady starts `command` (stderr shown, stdout dropped) and polls `readyUrl` every
 * `intervalMs` for 30 s.
 */
async function spawnReady(
  what: string,
  command: string,
  args: readonly string[],
  readyUrl: string,
  env: NodeJS.ProcessEnv = process.env,
  intervalMs = 100,
): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it was ready`);
    const ready = await fetch(readyUrl).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return child;
    await sleep(intervalMs);
  }
  child.kill('SIGKILL');
  throw new Error(`${what} not ready after 30 s (${readyUrl})`);
}

/**
 * oursFrom runs ours as the image's operator container does: `node <bundle>` (rolldown.config.ts)
 * with the Deployment's process environment (NODE_OPTIONS and the allocator's setting).
 */
function oursFrom(bundle: string): Contender {
  return {
    name: 'ours',
    async start(cp, namespace) {
      const [port, healthPort] = [await freePort(), await freePort()];
      const child = await spawnReady(
        'perfpilot operator (bundle)',
        process.execPath,
        [
          bundle,
          `--kubeconfig=${cp.kubeconfigPath}`,
          `--watch-namespace=${namespace}`,
          `--metrics-port=${port}`,
          `--health-port=${healthPort}`,
          // Plain HTTP, as the peer serves its /metrics here: the bench reads both alike.
          '--insecure-metrics',
        ],
        `http://127.0.0.1:${healthPort}/readyz`,
        {
          ...process.env,
          ...operatorEnvironment(),
          LEADER_ELECT: 'false',
          LOG_LEVEL: 'warn',
          POD_NAME: 'bench-operator',
        },
      );
      return { child, metricsUrl: `http://127.0.0.1:${port}/metrics` };
    },
  };
}

function controllerRuntimePeer(binary: string): Contender {
  return {
    name: 'peer',
    async start(cp, namespace) {
      const [metricsPort, healthPort] = [await freePort(), await freePort()];
      const child = await spawnReady(
        'controller-runtime peer',
        binary,
        [
          `--kubeconfig=${cp.kubeconfigPath}`,
          `--watch-namespace=${namespace}`,
          `--metrics-port=${metricsPort}`,
          `--health-port=${healthPort}`,
          `--max-concurrent-reconciles=${CONCURRENCY}`,
          '--zap-log-level=error',
          '--zap-stacktrace-level=panic',
        ],
        `http://127.0.0.1:${healthPort}/readyz`,
      );
      return { child, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
    },
  };
}

async function stopProcess({ child }: Started): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** apiWrites reads kube-apiserver's own request counters: mutating requests by resource. */
async function apiWrites(cp: ControlPlane): Promise<Map<string, number>> {
  const kc = cp.kubeConfig;
  const user = kc.getCurrentUser();
  const cluster = kc.getCurrentCluster();
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      `${cp.server}/metrics`,
      {
        ca: readFileSync(cluster?.caFile ?? ''),
        cert: readFileSync(user?.certFile ?? ''),
        key: readFileSync(user?.keyFile ?? ''),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end();
  });
  const writes = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1] ?? '';
    if (!['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY'].includes(verb)) continue;
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '';
    // The API server renews its own identity Lease every 10 s; that is not the operator.
    if (resource === 'leases') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    writes.set(resource, (writes.get(resource) ?? 0) + value);
  }
  return writes;
}

/** writesBetween is the per-resource difference of two apiWrites readings, zeros left out. */
function writesBetween(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): Array<readonly [string, number]> {
  return [...after]
    .map(([resource, n]) => [resource, n - (before.get(resource) ?? 0)] as const)
    .filter(([, n]) => n > 0);
}

/** statusTimeoutMs bounds the wait for one status; past it the benchmark fails naming the generation. */
const statusTimeoutMs = 30_000;

/**
 * Time from a spec change to the status that reports its generation, seen through a watch. The
 * status can arrive before the patch's response (the watch is another connection), so the watch
 * keeps the newest observedGeneration and when it came.
 */
async function eventToStatusLatency(cp: ControlPlane, namespace: string): Promise<number[]> {
  let observed = { generation: 0, at: 0 };
  let waiting: { generation: number; resolve: () => void } | undefined;
  const watch = await new Watch(cp.kubeConfig).watch(
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    { fieldSelector: 'metadata.name=latency' },
    (_phase, obj: PerformanceProfile) => {
      const generation = obj.status?.observedGeneration ?? 0;
      if (generation <= observed.generation) return;
      observed = { generation, at: performance.now() };
      if (waiting && generation >= waiting.generation) waiting.resolve();
    },
    () => {},
  );
  const samples: number[] = [];
  try {
    const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
    for (let i = 0; i < latencySamples; i++) {
      const started = performance.now();
      const updated = (await custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name: 'latency',
          body: [{ op: 'replace', path: '/spec/policy/evaluationIntervalSeconds', value: 61 + i }],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      )) as PerformanceProfile;
      const generation = updated.metadata.generation ?? 0;
      if (observed.generation < generation) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () =>
              reject(
                new Error(
                  `bench: no status for generation ${generation} of ${namespace}/latency in ${statusTimeoutMs / 1000} s`,
                ),
              ),
            statusTimeoutMs,
          );
          waiting = {
            generation,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          };
        });
        waiting = undefined;
      }
      samples.push(observed.at - started);
    }
  } finally {
    watch.abort();
  }
  return samples.sort((a, b) => a - b);
}

/**
 * apiServerFloor is the event → status latency with no operator: the benchmark itself watches the
 * profile and, on each new generation, writes a status that reports it (one merge patch, nothing
 * read or computed). What an operator adds comes on top of this: on a machine where its p99 is
 * above the goal's 50 ms, the API server and etcd alone miss it.
 */
async function apiServerFloor(cp: ControlPlane, namespace: string): Promise<number[]> {
  const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  let answered = 0;
  const responder = await new Watch(cp.kubeConfig).watch(
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    { fieldSelector: 'metadata.name=latency' },
    (_phase, obj: PerformanceProfile) => {
      const generation = obj.metadata.generation ?? 0;
      if (generation <= answered || generation <= (obj.status?.observedGeneration ?? 0)) return;
      answered = generation;
      void custom
        .patchNamespacedCustomObjectStatus(
          {
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            namespace,
            name: 'latency',
            body: { status: { observedGeneration: generation } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )
        .catch((err: unknown) => console.error(`bench: floor: status write failed: ${String(err)}`));
    },
    () => {},
  );
  try {
    return await eventToStatusLatency(cp, namespace);
  } finally {
    responder.abort();
  }
}

/** Start-up of ours: process start → /readyz, the bundle beside `perfpilot operator` (sources). */
interface StartupRun {
  readonly bundleMs: readonly number[];
  readonly sourcesMs: readonly number[];
}

/**
 * startupTimes starts ours `runs` times each way, alternately, on a namespace without profiles
 * (so the time is the process's own: Node, module loading, informers' first lists), and polls
 * /readyz every 10 ms.
 */
async function startupTimes(
  cp: ControlPlane,
  bundle: string,
  namespace: string,
  runs = 5,
): Promise<StartupRun> {
  const sources = fileURLToPath(new URL('../bin/perfpilot.js', import.meta.url));
  const times = { bundleMs: [] as number[], sourcesMs: [] as number[] };
  for (let i = 0; i < runs; i++) {
    for (const kind of ['bundleMs', 'sourcesMs'] as const) {
      const [port, healthPort] = [await freePort(), await freePort()];
      const flags = [
        `--kubeconfig=${cp.kubeconfigPath}`,
        `--watch-namespace=${namespace}`,
        `--metrics-port=${port}`,
        `--health-port=${healthPort}`,
      ];
      const args = kind === 'bundleMs' ? [bundle, ...flags] : [sources, 'operator', ...flags];
      const env = kind === 'bundleMs' ? { ...process.env, ...operatorEnvironment() } : { ...process.env };
      const started = performance.now();
      const child = await spawnReady(
        `ours (${kind})`,
        process.execPath,
        args,
        `http://127.0.0.1:${healthPort}/readyz`,
        { ...env, LEADER_ELECT: 'false', LOG_LEVEL: 'warn', POD_NAME: 'bench-operator' },
        10,
      );
      times[kind].push(performance.now() - started);
      await stopProcess({ child, metricsUrl: '' });
    }
  }
  return { bundleMs: times.bundleMs.sort((a, b) => a - b), sourcesMs: times.sourcesMs.sort((a, b) => a - b) };
}

/** createProfiles creates `count` profiles `p-0000`… on the namespace's target, 25 at a time. */
async function createProfiles(
  cp: ControlPlane,
  namespace: string,
  count: number,
  change: (profile: PerformanceProfile) => void = () => {},
): Promise<void> {
  const profiles = profileApi(cp.kubeConfig);
  const batch = 25;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, (_, j) => {
        const profile = new ProfileBuilder(namespace, `p-${String(i + j).padStart(4, '0')}`, target).build();
        change(profile);
        return profiles.create(profile);
      }),
    );
  }
}

/** A watch over one namespace's profiles that counts those whose status reports their generation. */
interface ReconciledFollower {
  /**
   * until resolves when `count` profiles are reconciled, or after `timeoutMs`, with how many were
   * and when (performance.now() of the event that made the count).
   */
  until(count: number, timeoutMs: number): Promise<{ reconciled: number; at: number }>;
  stop(): void;
}

/**
 * followReconciled lists the namespace's profiles, then watches from that list's resourceVersion:
 * one stream of events instead of polling lists of N objects, which would load the API server
 * the operators share, and a time to the event rather than to the next poll.
 */
async function followReconciled(cp: ControlPlane, namespace: string): Promise<ReconciledFollower> {
  const list = (await cp.kubeConfig.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: PLURAL,
  })) as { items: PerformanceProfile[]; metadata?: { resourceVersion?: string } };
  const isReconciled = (p: PerformanceProfile) => p.status?.observedGeneration === p.metadata.generation;
  const reconciled = new Map(list.items.map((p) => [p.metadata.name ?? '', isReconciled(p)]));
  let count = [...reconciled.values()].filter(Boolean).length;
  let waiter: { count: number; resolve: () => void } | undefined;
  let ended: Error | undefined;
  let lastAt = performance.now();
  const watch = await new Watch(cp.kubeConfig).watch(
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
    (phase, obj: PerformanceProfile) => {
      if (phase === 'BOOKMARK') return;
      const name = obj.metadata.name ?? '';
      const now = phase !== 'DELETED' && isReconciled(obj);
      count += Number(now) - Number(reconciled.get(name) ?? false);
      if (phase === 'DELETED') reconciled.delete(name);
      else reconciled.set(name, now);
      lastAt = performance.now();
      if (waiter && count >= waiter.count) waiter.resolve();
    },
    (err) => {
      ended = err instanceof Error ? err : new Error(`watch of ${namespace} ended`);
      waiter?.resolve();
    },
  );
  return {
    until: (target, timeoutMs) =>
      new Promise((resolve, reject) => {
        const settle = () => {
          clearTimeout(timer);
          waiter = undefined;
          if (count < target && ended)
            reject(new Error(`bench: watch of ${namespace} ended early: ${ended.message}`));
          else resolve({ reconciled: count, at: count >= target ? lastAt : performance.now() });
        };
        const timer = setTimeout(settle, timeoutMs);
        waiter = { count: target, resolve: settle };
        if (count >= target) settle();
      }),
    stop: () => watch.abort(),
  };
}

/** measureContender runs the three phases of one operator on its own namespaces. */
async function measureContender(cp: ControlPlane, contender: Contender): Promise<OperatorRun> {
  const { name } = contender;
  console.error(`bench: ${name}: event → status latency, ${latencySamples} changes`);
  const one = await contender.start(cp, `${name}-latency`);
  let latency: number[];
  try {
    latency = await eventToStatusLatency(cp, `${name}-latency`);
  } finally {
    await stopProcess(one);
  }
  const latencyStatus = (await profileApi(cp.kubeConfig).get(`${name}-latency`, 'latency')).status;

  console.error(`bench: ${name}: start → ${profileCount} profiles reconciled`);
  const follower = await followReconciled(cp, `${name}-fleet`);
  const writesAtStart = await apiWrites(cp);
  const startedAt = performance.now();
  const fleet = await contender.start(cp, `${name}-fleet`);
  try {
    const { reconciled, at } = await follower.until(profileCount, reconcileTimeoutMs);
    const ms = at - startedAt;
    follower.stop();
    const writesReconciled = await apiWrites(cp);
    console.error(`bench: ${name}: steady state, ${steadyWindowMs / 1000} s`);
    await sleep(5000);
    const before = await apiWrites(cp);
    await sleep(steadyWindowMs);
    const steadyWrites = writesBetween(before, await apiWrites(cp));
    const rss = rssMiB(fleet.child.pid ?? 0);
    return {
      p50Ms: percentile(latency, 50),
      p99Ms: percentile(latency, 99),
      profiles1000Seconds: ms / 1000,
      rssMiB: rss,
      steadyWritesPerMinute: steadyWrites.reduce((sum, [, n]) => sum + n, 0) / (steadyWindowMs / 60_000),
      reconciled,
      startupWrites: writesBetween(writesAtStart, writesReconciled),
      steadyWrites,
      latencyStatus,
    };
  } finally {
    follower.stop();
    await stopProcess(fleet);
  }
}

/** comparableStatus is a status without its times, for checking both wrote the same. */
function comparableStatus(status: PerformanceProfile['status']): string {
  return JSON.stringify(status ?? {}, (key, value: unknown) => {
    if (key === 'lastTransitionTime' || key === 'time') return undefined;
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
    return value;
  });
}

/** sumSamples adds up the samples of `metric` on a /metrics page whose labels match `labels`. */
async function sumSamples(url: string, metric: string, labels: RegExp = /.*/): Promise<number> {
  const text = await (await fetch(url)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (labels.test(line.slice(metric.length, line.lastIndexOf(' '))))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** What the Prometheus phase measured. */
interface PrometheusRun {
  /** perInterval is instant and range queries Prometheus answered per evaluation interval. */
  readonly perInterval: number;
  /** reconcilesPerInterval is ours' reconciles per interval meanwhile (its own counter). */
  readonly reconcilesPerInterval: number;
  readonly reconciled: number;
}

/** Prometheus queries per evaluation interval of ours, with `count` profiles on one Prometheus. */
async function prometheusQueriesPerInterval(
  cp: ControlPlane,
  ours: Contender,
  count: number,
): Promise<PrometheusRun> {
  const namespace = 'ours-prometheus';
  const prometheus = await startPrometheus({ scrapeIntervalSeconds: 5 });
  try {
    const queries = () =>
      sumSamples(`${prometheus.url}/metrics`, 'prometheus_http_requests_total', /handler="\/api\/v1\/query/);
    console.error(`bench: ours: ${count} profiles on one Prometheus, every ${prometheusIntervalSeconds} s`);
    await createProfiles(cp, namespace, count, (profile) => {
      profile.spec.metrics = { prometheus: { url: prometheus.url } } as PerformanceProfile['spec']['metrics'];
      profile.spec.policy = {
        evaluationIntervalSeconds: prometheusIntervalSeconds,
      } as PerformanceProfile['spec']['policy'];
    });
    const follower = await followReconciled(cp, namespace);
    const operator = await ours.start(cp, namespace);
    try {
      const { reconciled } = await follower.until(count, reconcileTimeoutMs);
      follower.stop();
      // One more interval, so every profile's first evaluation (history rebuilt) is behind us.
      await sleep(prometheusIntervalSeconds * 1000);
      const reconciles = () => sumSamples(operator.metricsUrl, 'perfpilot_reconcile_duration_seconds_count');
      const before = [await queries(), await reconciles()] as const;
      await sleep(prometheusIntervals * prometheusIntervalSeconds * 1000);
      return {
        perInterval: ((await queries()) - before[0]) / prometheusIntervals,
        reconcilesPerInterval: ((await reconciles()) - before[1]) / prometheusIntervals,
        reconciled,
      };
    } finally {
      follower.stop();
      await stopProcess(operator);
    }
  } finally {
    await prometheus.stop();
  }
}

/** Goals of issue 12, each with its check on (ours, peer). */
const goals: Record<keyof OperatorMeasures, { text: string; met: (o: number, p: number) => boolean }> = {
  p50Ms: { text: '≤ 1.2 × peer', met: (o, p) => o <= 1.2 * p },
  p99Ms: { text: '≤ 1.2 × peer, < 50 ms', met: (o, p) => o <= 1.2 * p && o < 50 },
  profiles1000Seconds: { text: '≤ 1.2 × peer, < 10 s', met: (o, p) => o <= 1.2 * p && o < 10 },
  steadyWritesPerMinute: { text: '0, as the peer', met: (o) => o === 0 },
  rssMiB: { text: '< 150 MB', met: (o) => o * 1.048576 < 150 },
};

function printTable(
  runs: { ours: OperatorRun; peer: OperatorRun },
  prometheus: PrometheusRun,
  floor: readonly number[],
  startup: StartupRun,
): void {
  const ratio = (o: number, p: number) => (p > 0 ? `${(o / p).toFixed(2)}` : o === 0 ? '1.00' : '∞');
  const reconciledCell = (r: OperatorRun) =>
    r.reconciled < profileCount
      ? `${r.reconciled} after ${r.profiles1000Seconds.toFixed(1)} s`
      : `${r.profiles1000Seconds.toFixed(2)} s`;
  const total = (writes: OperatorRun['steadyWrites']) => writes.reduce((sum, [, n]) => sum + n, 0);
  const byResource = (writes: OperatorRun['steadyWrites']) =>
    writes.length ? ` (${writes.map(([res, n]) => `${res} ${n}`).join(', ')})` : '';
  const writesCell = (r: OperatorRun) => `${r.steadyWritesPerMinute.toFixed(1)}${byResource(r.steadyWrites)}`;
  const rows: Array<[string, string, string, string, string, string]> = [];
  const add = (label: string, key: keyof OperatorMeasures, cell: (r: OperatorRun) => string) => {
    const o = runs.ours[key];
    const p = runs.peer[key];
    const met =
      goals[key].met(o, p) && (key !== 'profiles1000Seconds' || runs.ours.reconciled === profileCount);
    rows.push([
      label,
      cell(runs.ours),
      cell(runs.peer),
      ratio(o, p),
      goals[key].text,
      met ? 'met' : 'MISSED',
    ]);
  };
  add('event → status latency p50', 'p50Ms', (r) => `${r.p50Ms.toFixed(1)} ms`);
  add('event → status latency p99', 'p99Ms', (r) => `${r.p99Ms.toFixed(1)} ms`);
  add(`start → ${profileCount} profiles reconciled`, 'profiles1000Seconds', reconciledCell);
  rows.push([
    `API writes to reconcile ${profileCount} new profiles`,
    `${total(runs.ours.startupWrites)}${byResource(runs.ours.startupWrites)}`,
    `${total(runs.peer.startupWrites)}${byResource(runs.peer.startupWrites)}`,
    ratio(total(runs.ours.startupWrites), total(runs.peer.startupWrites)),
    '',
    '',
  ]);
  add('API writes per minute at steady state', 'steadyWritesPerMinute', writesCell);
  add(`RSS with ${profileCount} profiles`, 'rssMiB', (r) => `${r.rssMiB.toFixed(0)} MiB`);
  const perReconcile = prometheus.perInterval / prometheus.reconcilesPerInterval;
  const promCell = `${prometheus.perInterval.toFixed(0)} (${prometheus.reconcilesPerInterval.toFixed(0)} reconciles, ${perReconcile.toFixed(1)} queries each${prometheus.reconciled < prometheusProfileCount ? `; ${prometheus.reconciled} of ${prometheusProfileCount} reconciled` : ''})`;
  rows.push([
    `Prometheus queries per evaluation interval, ${prometheusProfileCount} profiles on one Prometheus`,
    promCell,
    'n/a',
    '',
    'named and bounded',
    prometheus.perInterval < prometheusProfileCount ? 'sublinear' : 'MISSED (≥ 1 per profile)',
  ]);
  console.log(
    `operator runtime, ours beside a controller-runtime peer, on one kube-apiserver (${latencySamples} latency samples, ${profileCount} profiles)\n`,
  );
  console.log('| measure | ours | peer | ratio ours/peer | goal | met? |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  console.log(
    `\nAPI server alone (no operator; the benchmark writes each status itself on seeing the change): event → status p50 ${percentile(floor, 50).toFixed(1)} ms, p99 ${percentile(floor, 99).toFixed(1)} ms`,
  );
  const median = (ms: readonly number[]) => percentile(ms, 50).toFixed(0);
  console.log(
    `ours, process start → /readyz without profiles (median of ${startup.bundleMs.length}): the bundle ${median(startup.bundleMs)} ms, \`perfpilot operator\` from the sources ${median(startup.sourcesMs)} ms`,
  );
  // Other work on the machine slows both alike; say how busy it was.
  console.log(
    `\nload average (1 min) / cores at the end: ${loadavg()[0]?.toFixed(1)} / ${availableParallelism()}`,
  );
}

/** run measures ours and the peer; with `json`, returns the `{ours, peer}` object for scripts. */
export async function run(options: { json?: boolean } = {}): Promise<unknown> {
  const peer = controllerRuntimePeer(await buildControllerRuntimePeer());
  const bundleDir = mkdtempSync(join(tmpdir(), 'perfpilot-bench-'));
  console.error('bench: bundling ours (rolldown.config.ts)');
  const bundle = await buildOperatorBundle(join(bundleDir, 'operator.js'));
  const ours = oursFrom(bundle);
  const cp = await startControlPlane();
  try {
    await installCrd(cp);
    const profiles = profileApi(cp.kubeConfig);
    for (const { name } of [ours, peer]) {
      for (const phase of ['latency', 'fleet']) {
        await createNamespace(cp.kubeConfig, `${name}-${phase}`);
        await createTargetStack(cp.kubeConfig, `${name}-${phase}`, target);
      }
      await profiles.create(new ProfileBuilder(`${name}-latency`, 'latency', target).build());
    }
    await createNamespace(cp.kubeConfig, 'floor-latency');
    await createNamespace(cp.kubeConfig, 'floor-latency-empty');
    await profiles.create(new ProfileBuilder('floor-latency', 'latency', target).build());
    await createNamespace(cp.kubeConfig, 'ours-prometheus');
    await createTargetStack(cp.kubeConfig, 'ours-prometheus', target);
    for (const { name } of [ours, peer]) {
      console.error(`bench: creating ${profileCount} profiles in ${name}-fleet`);
      await createProfiles(cp, `${name}-fleet`, profileCount);
    }

    const runs = { ours: await measureContender(cp, ours), peer: await measureContender(cp, peer) };
    if (comparableStatus(runs.ours.latencyStatus) !== comparableStatus(runs.peer.latencyStatus)) {
      throw new Error(
        `bench: ours and the peer wrote different statuses, so they did not do the same work:\nours ${comparableStatus(runs.ours.latencyStatus)}\npeer ${comparableStatus(runs.peer.latencyStatus)}`,
      );
    }
    console.error(`bench: API server alone: event → status latency, ${latencySamples} changes`);
    const floor = await apiServerFloor(cp, 'floor-latency');
    console.error('bench: ours: start → /readyz, the bundle beside perfpilot operator (sources)');
    const startup = await startupTimes(cp, bundle, 'floor-latency-empty');
    const prometheus = await prometheusQueriesPerInterval(cp, ours, prometheusProfileCount);
    printTable(runs, prometheus, floor, startup);
    const measures = (r: OperatorRun): OperatorMeasures => ({
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      profiles1000Seconds: r.profiles1000Seconds,
      rssMiB: r.rssMiB,
      steadyWritesPerMinute: r.steadyWritesPerMinute,
    });
    return options.json ? { ours: measures(runs.ours), peer: measures(runs.peer) } : undefined;
  } finally {
    await cp.stop();
    rmSync(bundleDir, { recursive: true, force: true });
  }
}
