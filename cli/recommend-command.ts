import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import Value from 'typebox/value';
import { parse } from 'yaml';
import {
  API_VERSION,
  KIND,
  type PerformanceProfile,
  PerformanceProfileSpec,
} from '../operator/src/api/v1alpha1/index.ts';
import { createMetricSources, measureSnapshot, rebuildHistory } from '../operator/src/metrics/index.ts';
import { readInstantValue } from '../operator/src/metrics/prometheus-result.ts';
import { signalQuery } from '../operator/src/metrics/signals.ts';
import { SCENARIO_DEFAULTS } from '../operator/src/sim/scenario.ts';
import { EMPTY_HISTORY, evaluate } from '../operator/src/tuning/evaluate.ts';
import { rateHistoryOf } from '../operator/src/tuning/forecast.ts';
import { objectiveCostPerDay } from '../operator/src/tuning/objective-cost.ts';
import { SEED_STATIC_KNOBS } from '../operator/src/tuning/seed-baselines.ts';
import {
  DEFAULT_TARGET_ENVIRONMENT,
  defaultedProfileSpec,
  tuningSpecFromProfile,
} from '../operator/src/tuning/tuning-spec-from-profile.ts';
import {
  KNOB_NAMES,
  type KnobName,
  type KnobValues,
  type ObjectiveCost,
} from '../operator/src/tuning/types.ts';

const MIB = 1024 * 1024;

/** parseKnobs reads `poolSize=20,maxOverflow=30,...` into knob values; unknown names are errors. */
export function parseKnobs(text: string): Partial<KnobValues> {
  const knobs: Partial<Record<KnobName, number>> = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const [name, value] = pair.split('=');
    if (!name || !(KNOB_NAMES as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(`"${name}" is not a knob; knobs: ${KNOB_NAMES.join(', ')}`);
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a whole number, got "${value}"`);
    knobs[name as KnobName] = n;
  }
  return knobs;
}

/** loadProfile reads a PerformanceProfile YAML file, applies the CRD defaults and checks the schema. */
export async function loadProfile(file: string, namespace?: string): Promise<PerformanceProfile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read the profile ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      {
        cause: err,
      },
    );
  }
  const doc = parse(text) as Partial<PerformanceProfile> | null;
  if (!doc || doc.apiVersion !== API_VERSION || doc.kind !== KIND) {
    throw new Error(`${file} is not a ${API_VERSION} ${KIND}`);
  }
  const spec = defaultedProfileSpec(doc.spec ?? {});
  const errors = [...Value.Errors(PerformanceProfileSpec, spec)].map(
    (e) => `spec${e.instancePath.replaceAll('/', '.')}: ${e.message}`,
  );
  if (errors.length > 0) throw new Error(`${file} is not a valid profile:\n  ${errors.join('\n  ')}`);
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { ...doc.metadata, namespace: namespace ?? doc.metadata?.namespace ?? 'default' },
    spec,
  };
}

interface RecommendFlags {
  profile: string;
  json?: boolean;
  namespace?: string;
  current?: Partial<KnobValues>;
  readyReplicas?: number;
  secretsDir?: string;
  workers: number;
  redisGibHourPrice: number;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('must be a number of dollars, 0 or more');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

/**
 * `perfpilot recommend`: one evaluation of the tuning engine on live Prometheus and Redis for a
 * profile file, with reasons; it writes nothing anywhere.
 */
export function recommendCommand(): Command {
  return new Command('recommend')
    .summary('recommend knob values for a profile from live Prometheus and Redis, changing nothing')
    .description(
      'Reads a PerformanceProfile file, measures its target through the Prometheus and Redis it names ' +
        '(instant queries, Redis INFO twice, the last day of history from range queries), runs the tuning ' +
        'engine behind its safety gate once, and prints each knob: current value, recommendation, verdict ' +
        'and reason. It reads no Kubernetes object and writes to no cluster. Secrets the profile names are ' +
        'read from --secrets-dir DIR/<secret name>/<key>, as a mounted Secret looks. Exit status 1 when a ' +
        'signal is unknown: nothing can be recommended.',
    )
    .exitOverride()
    .showHelpAfterError()
    .requiredOption('--profile <file>', 'PerformanceProfile YAML file')
    .option('--json', 'print the measurement and decisions as JSON')
    .option('--namespace <name>', "the target's namespace for $namespace (default: the file's, else default)")
    .option(
      '--current <knobs>',
      `current knob values, e.g. poolSize=20,maxOverflow=30,minReplicas=2,maxReplicas=10,hpaTargetCpuPercent=70 (default: the seed's; redisMaxmemoryMiB: Redis's own maxmemory)`,
      parseKnobs,
    )
    .option(
      '--ready-replicas <n>',
      'ready API pods (default: kube_deployment_status_replicas_ready from Prometheus)',
      positiveInteger,
    )
    .option(
      '--secrets-dir <dir>',
      'directory holding <secret name>/<key> files for the Secrets the profile names',
    )
    .option(
      '--workers <n>',
      'request workers per pod (ASYNC_WORKERS)',
      positiveInteger,
      DEFAULT_TARGET_ENVIRONMENT.workersPerReplica,
    )
    .option(
      '--redis-gib-hour-price <dollars>',
      'dollars per GiB-hour of Redis memory, to price memory bought for the hit-rate objective alone',
      nonNegativeNumber,
      SCENARIO_DEFAULTS.prices.redisGbHour,
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  perfpilot recommend --profile crds/samples/valid-recommend-full.yaml --secrets-dir /etc/perfpilot\n' +
        '  perfpilot recommend --profile my-profile.yaml --current poolSize=10,maxOverflow=0 --json',
    )
    .action(async (flags: RecommendFlags) => {
      const unknown = await recommend(flags);
      if (unknown > 0) throw new Error(`no recommendation: ${unknown} signals are unknown`);
    });
}

/** recommend prints one recommendation; returns how many signals were unknown (0: a recommendation). */
async function recommend(flags: RecommendFlags): Promise<number> {
  const profile = await loadProfile(resolve(flags.profile), flags.namespace);
  const spec = tuningSpecFromProfile(profile.spec, {
    ...DEFAULT_TARGET_ENVIRONMENT,
    workersPerReplica: flags.workers,
  });
  const sources = createMetricSources({
    readSecret: async (_namespace, ref) => {
      if (!flags.secretsDir) {
        throw new Error(
          `the profile names Secret ${ref.name} (key ${ref.key}): pass --secrets-dir DIR with DIR/${ref.name}/${ref.key}`,
        );
      }
      return (await readFile(join(flags.secretsDir, ref.name, ref.key), 'utf8')).trim();
    },
  });
  try {
    const now = () => Date.now() / 1000;
    const readyReplicas = flags.readyReplicas ?? (await readyReplicasFromPrometheus(profile, sources));
    const given: KnobValues = { ...SEED_STATIC_KNOBS, ...flags.current };
    const measurement = await measureSnapshot(profile, sources, now, {
      poolCapacity: given.poolSize + given.maxOverflow,
      ...(readyReplicas !== undefined
        ? { hpa: { currentReplicas: readyReplicas, conditions: [], scalingLimited: false } }
        : {}),
    });
    const history = measurement.snapshot ? await rebuildHistory(profile, sources, now()) : undefined;
    const measuredMaxmemory = measurement.snapshot?.redis?.maxMemoryBytes;
    // Redis says its own maxmemory; the other knobs live in Kubernetes, which this command does not read.
    const current: KnobValues = {
      ...given,
      ...(measuredMaxmemory && flags.current?.redisMaxmemoryMiB === undefined
        ? { redisMaxmemoryMiB: Math.round(measuredMaxmemory / MIB) }
        : {}),
    };
    const evaluation = measurement.snapshot
      ? evaluate(
          spec,
          measurement.snapshot,
          current,
          {
            ...EMPTY_HISTORY,
            snapshots: history?.snapshots ?? [],
            // The forecast's rate history: 15 days from Prometheus, as the operator rebuilds it at start.
            rates: history?.rates ?? rateHistoryOf(history?.snapshots ?? []),
          },
          now(),
        )
      : undefined;
    const name = `${profile.metadata.namespace}/${profile.metadata.name ?? profile.spec.targetRef.name}`;
    if (flags.json) {
      console.log(
        JSON.stringify(
          {
            profile: name,
            snapshot: measurement.snapshot ?? null,
            unknown: measurement.unknown,
            historySnapshots: history?.snapshots.length ?? 0,
            current,
            decisions: evaluation?.decisions ?? null,
            recommended: evaluation?.next ?? null,
            forecast: evaluation?.forecast ?? null,
            objectiveCosts: objectiveCostsOf(evaluation).map((cost) => ({
              ...cost,
              dollarsPerDay: objectiveCostPerDay(cost, flags.redisGibHourPrice),
            })),
          },
          null,
          2,
        ),
      );
    } else {
      console.log(
        formatRecommendation(
          name,
          measurement,
          history?.snapshots.length ?? 0,
          current,
          evaluation,
          flags.redisGibHourPrice,
        ),
      );
    }
    return evaluation ? 0 : Math.max(1, measurement.unknown.length);
  } finally {
    sources.close();
  }
}

async function readyReplicasFromPrometheus(
  profile: PerformanceProfile,
  sources: ReturnType<typeof createMetricSources>,
): Promise<number | undefined> {
  const client = await sources.prometheus(profile);
  if (!client) return undefined;
  const query = signalQuery(profile.spec.metrics.prometheus, 'readyReplicas', {
    namespace: profile.metadata.namespace ?? 'default',
    deployment: profile.spec.targetRef.name,
  });
  if (!('query' in query)) return undefined;
  try {
    const reading = readInstantValue('readyReplicas', await client.query(query.query));
    return 'value' in reading ? reading.value : undefined;
  } catch {
    return undefined; // measureSnapshot names the unreachable Prometheus for every signal
  }
}

/** The proposals' objective costs: memory the hit-rate objective alone asks for. */
function objectiveCostsOf(evaluation: ReturnType<typeof evaluate> | undefined): ObjectiveCost[] {
  return (evaluation?.proposals ?? []).flatMap((p) => (p.objectiveCost ? [p.objectiveCost] : []));
}

/** One line per objective cost: the GiB, the dollars at the given price, and why nothing else is bought. */
export function formatObjectiveCosts(costs: readonly ObjectiveCost[], pricePerGibHour: number): string[] {
  return costs.map((cost) => {
    const perDay = objectiveCostPerDay(cost, pricePerGibHour);
    return (
      `cost of an objective: the ${Math.round(cost.target * 100)} % hit-rate objective alone asks for ` +
      `+${cost.extraGiB.toFixed(2)} GiB of Redis (maxmemory ${cost.fromMiB} → ${cost.toMiB} MiB), ` +
      `$${perDay.toFixed(2)} a day ($${(perDay * 30).toFixed(2)} a month) at $${pricePerGibHour} per GiB-hour: ${cost.why}`
    );
  });
}

function formatRecommendation(
  name: string,
  m: Awaited<ReturnType<typeof measureSnapshot>>,
  historySnapshots: number,
  current: KnobValues,
  evaluation: ReturnType<typeof evaluate> | undefined,
  redisGibHourPrice: number,
): string {
  const lines = [`profile ${name}`];
  const s = m.snapshot;
  if (!s || !evaluation) {
    lines.push('no recommendation: these signals are unknown (never taken as zero):');
    for (const u of m.unknown) lines.push(`  - ${u.message}`);
    lines.push('nothing was changed: recommend writes to no cluster.');
    return lines.join('\n');
  }
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const lookups = s.redis ? s.redis.hitsPerSecond + s.redis.missesPerSecond : 0;
  const hitRate = s.redis
    ? `${lookups > 0 ? `Redis hit rate ${pct(s.redis.hitsPerSecond / lookups)}` : 'no Redis lookups'}, ${s.redis.evictedKeysPerSecond.toFixed(1)} evictions/s`
    : 'Redis not measured';
  lines.push(
    `measured: ${s.requestsPerSecond.toFixed(1)} rps on ${s.readyReplicas} replicas, p95 ${s.p95LatencyMs.toFixed(0)} ms, ` +
      `errors ${pct(s.errorRate)}, CPU ${pct(s.cpuUtilization)}, ${s.dbActiveConnections.toFixed(1)} DB connections busy, ` +
      `pool wait ${s.poolWaitMs.toFixed(1)} ms, ${hitRate}; ` +
      `history: ${historySnapshots} snapshots`,
  );
  const rows = evaluation.decisions.map((d) => [
    d.knob,
    String(current[d.knob]),
    String(d.to),
    d.verdict,
    d.reason,
  ]);
  const header = ['knob', 'current', 'recommended', 'verdict', 'reason'];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (i < 4 ? (r[i] ?? '').length : 0))),
  );
  const row = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i] ?? 0) : c)).join('  ');
  const costs = formatObjectiveCosts(objectiveCostsOf(evaluation), redisGibHourPrice);
  // The forecast, its error over the last season and the floor it asks for (or why it is off).
  if (evaluation.forecast) costs.unshift(`forecast floor: ${evaluation.forecast.reason}`);
  lines.push('', row(header), ...rows.map(row), ...(costs.length ? ['', ...costs] : []));
  lines.push('', 'nothing was changed: recommend writes to no cluster.');
  return lines.join('\n');
}
