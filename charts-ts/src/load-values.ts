/**
 * Turns a values file into validated Values: the seed defaults, overridden by the file, checked
 * against the schema and the cross-field rules. Every problem names the field, the value and what
 * is allowed; all problems are reported at once.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import {
  MAXMEMORY_SHARE_PERCENT,
  maxmemoryCeilingForLimitMiB,
} from '../../operator/src/api/v1alpha1/redis-maxmemory-ceiling.ts';
import { describe, type SchemaNode, schemaProblems, withDefaults } from './json-schema-check.ts';
import { ALL_NAMESPACES } from './operator-rbac.ts';
import { type Values, ValuesSchema } from './values.ts';
import { type ReleaseValues, ReleaseValuesSchema } from './values-release.ts';

/** ValuesError lists every problem found in a values file. */
export class ValuesError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`invalid values in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ValuesError';
    this.problems = problems;
  }
}

/** defaultValues are the seed defaults, with nothing overridden. */
export function defaultValues(): Values {
  return resolveValues({});
}

/** loadValuesFile reads a YAML values file and resolves it; a missing path means the defaults. */
export async function loadValuesFile(path?: string): Promise<Values> {
  if (path === undefined) return defaultValues();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read values file ${path}`, { cause: err });
  }
  let overrides: unknown;
  try {
    overrides = parse(text) ?? {};
  } catch (err) {
    throw new ValuesError(path, [`not valid YAML: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return resolveValues(overrides, path);
}

/**
 * resolveValues applies the defaults to `overrides` and validates the result.
 * @throws ValuesError naming every bad field, its value and the allowed range.
 */
export function resolveValues(overrides: unknown, source = 'values'): Values {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new ValuesError(source, [`the values must be a mapping, got ${describe(overrides)}`]);
  }
  const schema = ValuesSchema as unknown as SchemaNode;
  const values = mergeOver(withDefaults(schema, {}), overrides);
  const problems = schemaProblems(schema, values);
  if (problems.length === 0) problems.push(...crossFieldProblems(values as Values));
  if (problems.length > 0) throw new ValuesError(source, problems);
  return values as Values;
}

/**
 * resolveReleaseValues applies the release defaults (the Helm chart's values.yaml) to `overrides`
 * and validates the result, as resolveValues does for the toolkit.
 * @throws ValuesError naming every bad field, its value and the allowed range.
 */
export function resolveReleaseValues(overrides: unknown, source = 'values'): ReleaseValues {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new ValuesError(source, [`the values must be a mapping, got ${describe(overrides)}`]);
  }
  const schema = ReleaseValuesSchema as unknown as SchemaNode;
  const values = mergeOver(withDefaults(schema, {}), overrides) as ReleaseValues;
  const problems = schemaProblems(schema, values);
  if (problems.length === 0) {
    problems.push(...resourceProblems('resources', values.resources));
    problems.push(...watchNamespacesProblems('watchNamespaces', values.watchNamespaces));
  }
  if (problems.length > 0) throw new ValuesError(source, problems);
  return values;
}

/** watchNamespacesProblems: "*" means all namespaces, so it stands alone. */
function watchNamespacesProblems(field: string, namespaces: readonly string[]): string[] {
  return namespaces.includes(ALL_NAMESPACES) && namespaces.length > 1
    ? [
        `${field}: ${JSON.stringify(namespaces)} is invalid; allowed: namespace names, or ["${ALL_NAMESPACES}"] alone`,
      ]
    : [];
}

/** resourceProblems: requests never above limits. */
function resourceProblems(field: string, r: Values['api']['resources']): string[] {
  const problems: string[] = [];
  if (r.cpuRequestMillis > r.cpuLimitMillis) {
    problems.push(
      `${field}.cpuRequestMillis: ${r.cpuRequestMillis} is invalid; allowed: at most ${field}.cpuLimitMillis (${r.cpuLimitMillis})`,
    );
  }
  if (r.memoryRequestMiB > r.memoryLimitMiB) {
    problems.push(
      `${field}.memoryRequestMiB: ${r.memoryRequestMiB} is invalid; allowed: at most ${field}.memoryLimitMiB (${r.memoryLimitMiB})`,
    );
  }
  return problems;
}

/** mergeOver: mappings merge key by key (as Helm values do); lists and scalars replace. */
function mergeOver(base: unknown, override: unknown): unknown {
  const isMapping = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMapping(base) || !isMapping(override))
    return override === undefined ? base : structuredClone(override);
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = mergeOver(base[key], value);
  return merged;
}

/** Rules that span fields, checked once every field is valid on its own. */
function crossFieldProblems(v: Values): string[] {
  const problems: string[] = [];
  const ordered = (lo: string, loValue: number, hi: string, hiValue: number) => {
    if (loValue > hiValue) {
      problems.push(`${lo}: ${loValue} is invalid; allowed: at most ${hi} (${hiValue})`);
    }
  };
  ordered('hpa.minReplicas', v.hpa.minReplicas, 'hpa.maxReplicas', v.hpa.maxReplicas);
  problems.push(...watchNamespacesProblems('operator.watchNamespaces', v.operator.watchNamespaces));
  for (const [field, r] of [
    ['redis.resources', v.redis.resources],
    ['redis.exporterResources', v.redis.exporterResources],
    ['api.resources', v.api.resources],
    ['operator.resources', v.operator.resources],
  ] as const) {
    ordered(`${field}.cpuRequestMillis`, r.cpuRequestMillis, `${field}.cpuLimitMillis`, r.cpuLimitMillis);
    ordered(`${field}.memoryRequestMiB`, r.memoryRequestMiB, `${field}.memoryLimitMiB`, r.memoryLimitMiB);
  }
  const maxmemoryCeiling = maxmemoryCeilingForLimitMiB(v.redis.resources.memoryLimitMiB);
  if (v.redis.maxmemoryMiB > maxmemoryCeiling) {
    problems.push(
      `redis.maxmemoryMiB: ${v.redis.maxmemoryMiB} is invalid; allowed: at most ${MAXMEMORY_SHARE_PERCENT}% of redis.resources.memoryLimitMiB (${maxmemoryCeiling})`,
    );
  }
  const p = v.operator.profile;
  ordered('operator.profile.poolSizeMin', p.poolSizeMin, 'operator.profile.poolSizeMax', p.poolSizeMax);
  ordered(
    'operator.profile.maxOverflowMin',
    p.maxOverflowMin,
    'operator.profile.maxOverflowMax',
    p.maxOverflowMax,
  );
  ordered(
    'operator.profile.redisMaxmemoryMinMiB',
    p.redisMaxmemoryMinMiB,
    'operator.profile.redisMaxmemoryMaxMiB',
    p.redisMaxmemoryMaxMiB,
  );
  if (p.redisMaxmemoryMaxMiB > maxmemoryCeiling) {
    problems.push(
      `operator.profile.redisMaxmemoryMaxMiB: ${p.redisMaxmemoryMaxMiB} is invalid; allowed: at most ${MAXMEMORY_SHARE_PERCENT}% of redis.resources.memoryLimitMiB (${maxmemoryCeiling})`,
    );
  }
  ordered(
    'operator.profile.replicaFloor',
    p.replicaFloor,
    'operator.profile.replicaCeiling',
    p.replicaCeiling,
  );
  ordered(
    'operator.profile.evaluationIntervalSeconds',
    p.evaluationIntervalSeconds,
    'operator.profile.verificationWindowSeconds',
    p.verificationWindowSeconds,
  );
  if (p.cooldownSeconds !== 0) {
    ordered(
      'operator.profile.verificationWindowSeconds',
      p.verificationWindowSeconds,
      'operator.profile.cooldownSeconds',
      p.cooldownSeconds,
    );
  }
  const budget = v.database.maxConnections - v.database.reservedConnections;
  const smallest = p.replicaFloor * (p.poolSizeMin + p.maxOverflowMin);
  if (smallest > budget) {
    problems.push(
      `operator.profile.replicaFloor: ${p.replicaFloor} is invalid; allowed: replicaFloor x (poolSizeMin + maxOverflowMin) = ${smallest} must fit the connection budget database.maxConnections - database.reservedConnections (${budget})`,
    );
  }
  if (v.database.reservedConnections >= v.database.maxConnections) {
    problems.push(
      `database.reservedConnections: ${v.database.reservedConnections} is invalid; allowed: less than database.maxConnections (${v.database.maxConnections})`,
    );
  }
  return problems;
}

/**
 * valuesNotes are facts worth a user's attention that are not errors: the seed's static pool
 * (20 + 30 per pod) at the HPA's ceiling overruns a default PostgreSQL, which is what the
 * operator's budget invariant exists for.
 */
export function valuesNotes(v: Values): string[] {
  const notes: string[] = [];
  const perPod = v.api.pool.size + v.api.pool.maxOverflow;
  const budget = v.database.maxConnections - v.database.reservedConnections;
  if (v.hpa.maxReplicas * perPod > budget) {
    notes.push(
      `hpa.maxReplicas x (api.pool.size + api.pool.maxOverflow) = ${v.hpa.maxReplicas} x ${perPod} = ${v.hpa.maxReplicas * perPod} connections exceeds the database budget of ${budget} (database.maxConnections - database.reservedConnections); the operator keeps the live values within it in Auto mode, or lower them here`,
    );
  }
  return notes;
}
