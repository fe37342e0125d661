import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultValues, loadValuesFile, resolveValues, ValuesError, valuesNotes } from './load-values.ts';

/** Temporary directories made by these tests, removed when they end. */
const tempDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'perfpilot-values-'));
  tempDirs.push(dir);
  return dir;
}

function problemsOf(overrides: unknown): readonly string[] {
  try {
    resolveValues(overrides);
  } catch (err) {
    if (err instanceof ValuesError) return err.problems;
    throw err;
  }
  return [];
}

describe('values', () => {
  it('default to the seed guide’s redis.conf', () => {
    const { redis } = defaultValues();
    expect({
      maxmemoryMiB: redis.maxmemoryMiB,
      maxmemoryPolicy: redis.maxmemoryPolicy,
      timeoutSeconds: redis.timeoutSeconds,
      tcpKeepaliveSeconds: redis.tcpKeepaliveSeconds,
      hz: redis.hz,
      hashMaxListpackEntries: redis.hashMaxListpackEntries,
      maxclients: redis.maxclients,
    }).toEqual({
      maxmemoryMiB: 512,
      maxmemoryPolicy: 'allkeys-lru',
      timeoutSeconds: 300,
      tcpKeepaliveSeconds: 300,
      hz: 10,
      hashMaxListpackEntries: 512,
      maxclients: 1000,
    });
  });

  it('default to the seed’s pool, cache strategies and environment', () => {
    const { api } = defaultValues();
    expect(api.pool).toEqual({
      size: 20,
      maxOverflow: 30,
      timeoutSeconds: 30,
      recycleSeconds: 3600,
      prePing: true,
    });
    expect(api.cacheStrategies).toEqual({
      market_data: { ttlSeconds: 60, strategy: 'write-through' },
      risk_calculations: { ttlSeconds: 300, strategy: 'write-behind' },
      user_sessions: { ttlSeconds: 1800, strategy: 'write-around' },
      static_data: { ttlSeconds: 3600, strategy: 'cache-aside' },
    });
    expect([
      api.cacheTtlDefaultSeconds,
      api.asyncWorkers,
      api.profilerEnabled,
      api.monitoringEnabled,
    ]).toEqual([300, 4, true, true]);
  });

  it('default to the seed’s SLO targets and alert thresholds', () => {
    const v = defaultValues();
    expect(v.slo).toEqual({
      p95LatencyMs: 200,
      errorRatePercent: 0.1,
      cacheHitRatePercent: 85,
      poolUsagePercent: 80,
      availabilityPercent: 99.9,
    });
    expect(v.alerts).toEqual({
      cacheHitRatePercentBelow: 80,
      cacheResponseMsAbove: 10,
      poolUsagePercentAbove: 85,
      queryTimeMsAbove: 100,
      responseTimeMsAbove: 1000,
      errorRatePercentAbove: 5,
      cpuPercentAbove: 80,
      memoryPercentAbove: 85,
      redisMemoryPercentAbove: 90,
      forMinutes: 5,
    });
    expect(v.hpa.requestsPerSecondPerPod).toBe(1000);
  });

  it('are overridden field by field, keeping the other defaults', () => {
    const v = resolveValues({
      redis: { maxmemoryMiB: 256 },
      api: { cacheStrategies: { fx_rates: { ttlSeconds: 30, strategy: 'write-through' } } },
    });
    expect(v.redis.maxmemoryMiB).toBe(256);
    expect(v.redis.maxmemoryPolicy).toBe('allkeys-lru');
    expect(Object.keys(v.api.cacheStrategies).sort()).toEqual([
      'fx_rates',
      'market_data',
      'risk_calculations',
      'static_data',
      'user_sessions',
    ]);
  });

  it('reject a number out of range, naming the field, the value and the range', () => {
    expect(problemsOf({ redis: { hz: 0 } })).toEqual([
      'redis.hz: 0 is invalid; allowed: an integer from 1 to 500',
    ]);
  });

  it('reject a wrong type, naming the field, the value and the type', () => {
    expect(problemsOf({ api: { pool: { size: '20' } } })).toEqual([
      'api.pool.size: "20" is invalid; allowed: an integer from 1 to 1000',
    ]);
  });

  it('reject a value outside an enumeration, listing the choices', () => {
    expect(problemsOf({ redis: { maxmemoryPolicy: 'lru' } })).toEqual([
      'redis.maxmemoryPolicy: "lru" is invalid; allowed: one of allkeys-lru, allkeys-lfu, volatile-lru, volatile-lfu, allkeys-random, volatile-ttl, noeviction',
    ]);
  });

  it('reject an unknown field, listing the allowed fields', () => {
    expect(problemsOf({ hpa: { minReplica: 3 } })).toEqual([
      'hpa.minReplica: unknown field (value 3); allowed fields: minReplicas, maxReplicas, cpuMetric, cpuUtilizationPercent, requestRateMetric, requestsPerSecondPerPod, scaleUpStabilizationSeconds, scaleDownStabilizationSeconds',
    ]);
  });

  it('reject a request-rate metric shape other than Pods or External', () => {
    expect(problemsOf({ hpa: { requestRateMetric: 'Object' } })[0]).toMatch(
      /^hpa\.requestRateMetric: "Object"/,
    );
  });

  it('reject an image tagged latest', () => {
    expect(problemsOf({ api: { image: 'ghcr.io/perfpilot/risk-api:latest' } })[0]).toMatch(
      /^api\.image: "ghcr\.io\/perfpilot\/risk-api:latest" is invalid; allowed: an image reference with a tag or digest, not latest/,
    );
  });

  it('reject minReplicas above maxReplicas', () => {
    expect(problemsOf({ hpa: { minReplicas: 6, maxReplicas: 4 } })).toEqual([
      'hpa.minReplicas: 6 is invalid; allowed: at most hpa.maxReplicas (4)',
    ]);
  });

  it('reject a maxmemory above 75% of the Redis memory limit', () => {
    expect(problemsOf({ redis: { maxmemoryMiB: 900 } })).toEqual([
      'redis.maxmemoryMiB: 900 is invalid; allowed: at most 75% of redis.resources.memoryLimitMiB (768)',
    ]);
  });

  it('reject a request above its limit', () => {
    expect(problemsOf({ api: { resources: { memoryRequestMiB: 1024 } } })).toEqual([
      'api.resources.memoryRequestMiB: 1024 is invalid; allowed: at most api.resources.memoryLimitMiB (512)',
    ]);
  });

  it('reject profile bounds in the wrong order', () => {
    expect(problemsOf({ operator: { profile: { poolSizeMin: 40, poolSizeMax: 30 } } })).toEqual([
      'operator.profile.poolSizeMin: 40 is invalid; allowed: at most operator.profile.poolSizeMax (30)',
    ]);
  });

  it('reject a profile maxmemory ceiling above 75% of the Redis memory limit', () => {
    expect(problemsOf({ operator: { profile: { redisMaxmemoryMaxMiB: 1000 } } })).toEqual([
      'operator.profile.redisMaxmemoryMaxMiB: 1000 is invalid; allowed: at most 75% of redis.resources.memoryLimitMiB (768)',
    ]);
  });

  it('reject reserved connections that leave no budget', () => {
    expect(problemsOf({ database: { maxConnections: 10, reservedConnections: 10 } })).toContain(
      'database.reservedConnections: 10 is invalid; allowed: less than database.maxConnections (10)',
    );
  });

  it('reject profile bounds whose smallest configuration exceeds the connection budget', () => {
    expect(problemsOf({ operator: { profile: { replicaFloor: 10, poolSizeMin: 20 } } })).toEqual([
      'operator.profile.replicaFloor: 10 is invalid; allowed: replicaFloor x (poolSizeMin + maxOverflowMin) = 200 must fit the connection budget database.maxConnections - database.reservedConnections (90)',
    ]);
  });

  it('reject a verification window longer than the cooldown', () => {
    expect(problemsOf({ operator: { profile: { cooldownSeconds: 120 } } })).toEqual([
      'operator.profile.verificationWindowSeconds: 600 is invalid; allowed: at most operator.profile.cooldownSeconds (120)',
    ]);
  });

  it('reject a values file that is not a mapping', () => {
    expect(problemsOf(['redis'])).toEqual(['the values must be a mapping, got ["redis"]']);
  });

  it('from a YAML file report every bad field at once, with the file name', async () => {
    const dir = await tempDir();
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'redis:\n  masters: 2\n  hz: 1000\nhpa:\n  minReplicas: 1\nnamespace: Bad_NS\n');
    const err = await loadValuesFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValuesError);
    expect((err as ValuesError).message).toContain(`invalid values in ${file}:`);
    expect((err as ValuesError).problems).toEqual([
      'namespace: "Bad_NS" is invalid; allowed: a DNS label: lowercase letters, digits and -, at most 63 characters',
      'redis.masters: 2 is invalid; allowed: an integer from 3 to 50',
      'redis.hz: 1000 is invalid; allowed: an integer from 1 to 500',
      'hpa.minReplicas: 1 is invalid; allowed: an integer from 2 to 1000',
    ]);
  });

  it('from a file that is not YAML fail with the parser’s message', async () => {
    const dir = await tempDir();
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'redis: [\n');
    await expect(loadValuesFile(file)).rejects.toThrow(/not valid YAML/);
  });

  it('note that the seed’s static pool at the HPA ceiling overruns the database budget', () => {
    expect(valuesNotes(defaultValues())).toEqual([
      'hpa.maxReplicas x (api.pool.size + api.pool.maxOverflow) = 10 x 50 = 500 connections exceeds the database budget of 90 (database.maxConnections - database.reservedConnections); the operator keeps the live values within it in Auto mode, or lower them here',
    ]);
    expect(
      valuesNotes(resolveValues({ hpa: { maxReplicas: 3 }, api: { pool: { size: 10, maxOverflow: 5 } } })),
    ).toEqual([]);
  });

  it('from the README example are valid', async () => {
    const readme = await readFile(join(import.meta.dirname, '../README.md'), 'utf8');
    const example = /```yaml\n# prod\.yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const values = resolveValues(parse(example ?? ''));
    expect([values.namespace, values.hpa.maxReplicas, values.operator.profile.mode]).toEqual([
      'risk-prod',
      12,
      'Observe',
    ]);
  });
});
