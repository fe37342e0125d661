/**
 * The soak's observer, run as its own process (`node test/soak/observer/observe.ts CONFIG.json`):
 * every second it reads PostgreSQL's own connection count, `CONFIG GET maxmemory` on every Redis
 * node, the profile, HPA, tuning ConfigMap and Events from the API server, and the operator
 * processes' RSS from /proc; it records each breach as it begins. On SIGTERM it reads the faults
 * the runner injected and the load generator's slices from the run directory, writes report.json
 * and exits. It shares no code with the operator (a dependency-cruiser rule holds it to that).
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  type Breach,
  checkSample,
  type EventSeen,
  type FaultRecord,
  type HistoryEntry,
  type KnobReading,
  type LoadSlice,
  majorityMaxmemoryMiB,
  newCheckMemory,
  type ObservedKnob,
  type ProfileView,
  type Sample,
} from './invariants.ts';
import { judgeRun } from './soak-report.ts';

/** What the runner tells the observer, as a JSON file. */
export interface ObserverConfig {
  readonly seed: number;
  readonly startedAt: number;
  readonly kubeconfig: string;
  readonly namespace: string;
  /** profile names the PerformanceProfile; hpa and tuningConfigMap its targets. */
  readonly profile: string;
  readonly hpa: string;
  readonly tuningConfigMap: string;
  readonly redis: { readonly host: string; readonly ports: readonly number[]; readonly password: string };
  readonly postgresUrl: string;
  /** runDir holds operators.json, faults.json and load.jsonl (written by the runner) and the observer's output. */
  readonly runDir: string;
}

/** Files of the run directory: the runner writes the first three, the observer the last two. */
export const RUN_FILES = {
  operators: 'operators.json',
  faults: 'faults.json',
  load: 'load.jsonl',
  samples: 'samples.jsonl',
  report: 'report.json',
} as const;

const SAMPLE_INTERVAL_MS = 1000;
/** How long one read may take before the sample records it as unanswered. */
const READ_TIMEOUT_MS = 1500;

const within = <T>(work: Promise<T>): Promise<T | null> =>
  Promise.race([
    work.catch(() => null),
    new Promise<null>((resolve) => setTimeout(() => resolve(null), READ_TIMEOUT_MS).unref()),
  ]);

const GROUP = { group: 'perfpilot.dev', version: 'v1alpha1', plural: 'performanceprofiles' };

type Spec = {
  knobs?: {
    poolSize?: { min?: number; max?: number };
    maxOverflow?: { min?: number; max?: number };
    redisMaxmemory?: { minMiB?: number; maxMiB?: number; containerMemoryLimitMiB?: number };
    replicas?: { floor?: number; ceiling?: number };
  };
  database?: { maxConnections?: number; reservedConnections?: number };
  policy?: { evaluationIntervalSeconds?: number; stabilizationWindowSeconds?: number };
};
type Status = {
  conditions?: { type: string; status: string }[];
  current?: Partial<Record<ObservedKnob, number>>;
  history?: HistoryEntry[];
};

/** profileView reads bounds and policy from the spec as stored (the API server applied the CRD's defaults). */
function profileView(spec: Spec, status: Status): ProfileView {
  const k = spec.knobs ?? {};
  const range = (min: number | undefined, max: number | undefined) => ({
    min: min ?? Number.NEGATIVE_INFINITY,
    max: max ?? Number.POSITIVE_INFINITY,
  });
  const replicas = range(k.replicas?.floor, k.replicas?.ceiling);
  return {
    bounds: {
      poolSize: range(k.poolSize?.min, k.poolSize?.max),
      maxOverflow: range(k.maxOverflow?.min, k.maxOverflow?.max),
      redisMaxmemoryMiB: range(k.redisMaxmemory?.minMiB, k.redisMaxmemory?.maxMiB),
      minReplicas: replicas,
      maxReplicas: replicas,
    },
    containerMemoryLimitMiB: k.redisMaxmemory?.containerMemoryLimitMiB ?? Number.POSITIVE_INFINITY,
    connectionBudget:
      (spec.database?.maxConnections ?? Number.POSITIVE_INFINITY) - (spec.database?.reservedConnections ?? 0),
    evaluationIntervalSeconds: spec.policy?.evaluationIntervalSeconds ?? 60,
    stabilizationWindowSeconds: spec.policy?.stabilizationWindowSeconds ?? 0,
    conditions: Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c.status])),
    current: status.current ?? {},
  };
}

/** rssOf reads VmRSS (bytes) of a process, or null once it is gone. */
function rssOf(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

function readJson<T>(path: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return fallback;
  }
}

function readJsonLines<T>(path: string): T[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as T);
  } catch {
    return [];
  }
}

/** observe samples until `stopped` resolves, then writes the report and resolves. */
export async function observe(config: ObserverConfig, stopped: Promise<void>): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(config.kubeconfig);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const autoscaling = kc.makeApiClient(AutoscalingV2Api);
  const eventsApi = kc.makeApiClient(EventsV1Api);
  const ns = config.namespace;
  const redis = config.redis.ports.map((port) => {
    const client = new Redis({
      host: config.redis.host,
      port,
      password: config.redis.password,
      lazyConnect: true,
      connectTimeout: 800,
      commandTimeout: 800,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 500,
    });
    client.on('error', () => {});
    return { port, client };
  });
  let postgres: pg.Client | null = null;
  const pgConnections = async (): Promise<number | null> => {
    try {
      if (!postgres) {
        const client = new pg.Client({ connectionString: config.postgresUrl, connectionTimeoutMillis: 1000 });
        client.on('error', () => {
          postgres = null;
        });
        await client.connect();
        postgres = client;
      }
      const result = await postgres.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
      );
      return result.rows[0]?.n ?? null;
    } catch {
      await postgres?.end().catch(() => {});
      postgres = null;
      return null;
    }
  };

  const samples: Sample[] = [];
  const breaches: Breach[] = [];
  const history = new Map<string, HistoryEntry>();
  const events = new Map<string, EventSeen>();
  const memory = newCheckMemory();
  let stabilizationWindowSeconds = 0;
  let running = true;
  void stopped.then(() => {
    running = false;
  });

  while (running) {
    const t = Date.now();
    const [profile, hpa, tuning, eventList, connections, maxmemory] = await Promise.all([
      within(custom.getNamespacedCustomObject({ ...GROUP, namespace: ns, name: config.profile })),
      within(autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: config.hpa })),
      within(core.readNamespacedConfigMap({ namespace: ns, name: config.tuningConfigMap })),
      within(eventsApi.listNamespacedEvent({ namespace: ns })),
      pgConnections(),
      Promise.all(
        redis.map(async ({ port, client }) => {
          const reply = (await within(client.config('GET', 'maxmemory'))) as [string, string] | null;
          return { port, maxmemoryBytes: reply ? Number(reply[1]) : null };
        }),
      ),
    ]);
    let view: ProfileView | null = null;
    if (profile) {
      const p = profile as { spec: Spec; status?: Status };
      view = profileView(p.spec, p.status ?? {});
      stabilizationWindowSeconds = view.stabilizationWindowSeconds;
      for (const h of p.status?.history ?? [])
        history.set(`${h.time}|${h.knob}|${h.from}|${h.to}|${h.outcome}`, h);
    }
    for (const e of eventList?.items ?? []) {
      if (e.regarding?.name !== config.profile || !e.metadata?.uid) continue;
      const at = e.eventTime ? Date.parse(String(e.eventTime)) : Number.NaN;
      events.set(e.metadata.uid, {
        time: Number.isNaN(at) ? null : at,
        reason: e.reason ?? '',
        note: e.note ?? '',
        count: Math.max(1, e.series?.count ?? e.deprecatedCount ?? 1),
      });
    }
    const int = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));
    const knobs: KnobReading = {
      poolSize: int(tuning?.data?.DB_POOL_SIZE),
      maxOverflow: int(tuning?.data?.DB_MAX_OVERFLOW),
      redisMaxmemoryMiB: majorityMaxmemoryMiB(maxmemory),
      minReplicas: hpa?.spec?.minReplicas ?? null,
      maxReplicas: hpa?.spec?.maxReplicas ?? null,
    };
    const operators = readJson<{ pid: number; identity: string }[]>(
      join(config.runDir, RUN_FILES.operators),
      [],
    );
    const rss = operators.flatMap(({ pid, identity }) => {
      const bytes = rssOf(pid);
      return bytes === null ? [] : [{ pid, identity, bytes }];
    });
    const sample: Sample = { t, pgConnections: connections, redis: maxmemory, knobs, profile: view, rss };
    samples.push(sample);
    appendFileSync(join(config.runDir, RUN_FILES.samples), `${JSON.stringify(sample)}\n`);
    for (const b of checkSample(sample, memory)) {
      breaches.push(b);
      process.stderr.write(
        `observer: breach at ${Math.round((b.t - config.startedAt) / 1000)} s, ${b.invariant}: ${b.detail}\n`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.max(0, t + SAMPLE_INTERVAL_MS - Date.now())));
  }

  for (const { client } of redis) client.disconnect();
  // Assigned inside pgConnections: the compiler cannot see it is set by now.
  await (postgres as pg.Client | null)?.end().catch(() => {});
  const report = judgeRun({
    seed: config.seed,
    startedAt: config.startedAt,
    endedAt: Date.now(),
    samples,
    breaches,
    history: [...history.values()],
    events: [...events.values()],
    faults: readJson<FaultRecord[]>(join(config.runDir, RUN_FILES.faults), []),
    load: readJsonLines<LoadSlice>(join(config.runDir, RUN_FILES.load)),
    stabilizationWindowSeconds,
  });
  writeFileSync(join(config.runDir, RUN_FILES.report), JSON.stringify(report, null, 2));
}

if (import.meta.main) {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write('usage: observe.ts CONFIG.json\n');
    process.exit(2);
  }
  const config = JSON.parse(readFileSync(path, 'utf8')) as ObserverConfig;
  const stopped = new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await observe(config, stopped);
  process.exit(0);
}
