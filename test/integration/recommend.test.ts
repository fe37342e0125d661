/**
 * `perfpilot recommend` against a real Prometheus (scraping the test exporter) and a real
 * redis-server: a recommendation with reasons from live signals, nothing written, and clear
 * failures when Prometheus is down or a Secret is not given.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../cli/perfpilot.ts';
import { driveRiskApiSeries, startTestExporter, type TestExporter } from '../cluster/exporter.ts';
import { freePort } from '../cluster/processes.ts';
import { type PrometheusServer, startPrometheus } from '../cluster/prometheus.ts';
import { type RedisServer, startRedis } from '../cluster/redis.ts';

let out: string[];
let err: string[];
const originalLog = console.log;
const originalError = console.error;
const originalOut = process.stdout.write.bind(process.stdout);
beforeEach(() => {
  out = [];
  err = [];
  console.log = (...args: unknown[]) => out.push(args.join(' '));
  console.error = (...args: unknown[]) => err.push(args.join(' '));
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
});
afterEach(() => {
  console.log = originalLog;
  console.error = originalError;
  process.stdout.write = originalOut;
});

describe('perfpilot recommend', () => {
  let exporter: TestExporter;
  let prometheus: PrometheusServer;
  let redis: RedisServer;
  let stopTraffic: () => void;
  let dir: string;

  beforeAll(async () => {
    exporter = await startTestExporter();
    prometheus = await startPrometheus({
      scrapeTargets: [{ address: exporter.address, job: 'risk-api', labels: { namespace: 'perfpilot' } }],
    });
    redis = await startRedis({ password: 'recommend-redis-password' });
    await redis.client().config('SET', 'maxmemory', '256mb');
    stopTraffic = driveRiskApiSeries(exporter, 'risk-api').stop;
    dir = await mkdtemp(join(tmpdir(), 'perfpilot-recommend-'));
    await mkdir(join(dir, 'secrets', 'redis-auth'), { recursive: true });
    await writeFile(join(dir, 'secrets', 'redis-auth', 'password'), `${redis.password}\n`);
    await prometheus.waitForSeries('rate(database_pool_wait_seconds_count{job="risk-api"}[5m]) > 0');
    await prometheus.waitForSeries('rate(container_cpu_usage_seconds_total{job="risk-api"}[2m]) > 0');
  });
  afterAll(async () => {
    stopTraffic?.();
    await prometheus?.stop();
    await exporter?.stop();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function profileFile(url: string, name = 'profile.yaml'): Promise<string> {
    const file = join(dir, name);
    await writeFile(
      file,
      stringify({
        apiVersion: 'perfpilot.dev/v1alpha1',
        kind: 'PerformanceProfile',
        metadata: { name: 'risk-api', namespace: 'perfpilot' },
        spec: {
          targetRef: { name: 'risk-api' },
          metrics: {
            prometheus: { url, timeoutSeconds: 2 },
            redis: { endpoints: [`${redis.host}:${redis.port}`], passwordSecretRef: { name: 'redis-auth' } },
          },
        },
      }),
    );
    return file;
  }

  const run = (...args: string[]) => main(['node', 'perfpilot', 'recommend', ...args]);
  const seedKnobs = 'poolSize=20,maxOverflow=30,minReplicas=2,maxReplicas=10';

  it('recommends every knob with a reason from live signals, within the DB budget, as JSON', async () => {
    const file = await profileFile(prometheus.url);
    const code = await run(
      '--profile',
      file,
      '--json',
      '--secrets-dir',
      join(dir, 'secrets'),
      '--current',
      seedKnobs,
    );
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const result = JSON.parse(out.join('\n'));
    expect(result.unknown).toEqual([]);
    expect(result.current.redisMaxmemoryMiB).toBe(256);
    expect(result.snapshot.readyReplicas).toBe(2);
    expect(result.decisions.map((d: { knob: string }) => d.knob)).toEqual([
      'poolSize',
      'maxOverflow',
      'redisMaxmemoryMiB',
      'minReplicas',
      'maxReplicas',
      'hpaTargetCpuPercent',
      'hpaTargetRequestsPerPod',
    ]);
    for (const d of result.decisions) expect(d.reason.length).toBeGreaterThan(10);
    const next = result.recommended;
    // The seed's 10 × (20 + 30) breaks the default budget of 100 − 10 connections; the gate repairs it.
    expect(next.maxReplicas * (next.poolSize + next.maxOverflow)).toBeLessThanOrEqual(90);
    expect(result.decisions.find((d: { knob: string }) => d.knob === 'maxOverflow').reason).toMatch(
      /10 × \(20 \+ 30\) > 90 connections/,
    );
  });

  it('prints a table of knobs and writes nothing: Redis keeps its maxmemory', async () => {
    const file = await profileFile(prometheus.url);
    expect(await run('--profile', file, '--secrets-dir', join(dir, 'secrets'), '--current', seedKnobs)).toBe(
      0,
    );
    const text = out.join('\n');
    expect(text).toMatch(/^profile perfpilot\/risk-api$/m);
    expect(text).toMatch(/^measured: [\d.]+ rps on 2 replicas, p95 \d+ ms/m);
    expect(text).toMatch(/^knob +current +recommended +verdict +reason$/m);
    expect(text).toMatch(/^maxOverflow +30 +\d+ +apply +/m);
    expect(text).toMatch(/nothing was changed: recommend writes to no cluster\./);
    const client = redis.client();
    expect(await client.config('GET', 'maxmemory')).toEqual(['maxmemory', String(256 * 1024 * 1024)]);
    client.disconnect();
  });

  it('fails with every unknown signal named when Prometheus is down, recommending nothing', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const file = await profileFile(url, 'down.yaml');
    expect(await run('--profile', file, '--secrets-dir', join(dir, 'secrets'))).toBe(1);
    const text = out.join('\n');
    expect(text).toMatch(/no recommendation: these signals are unknown \(never taken as zero\):/);
    expect(text).toContain(`- p95LatencyMs: Prometheus at ${url} is unreachable: ECONNREFUSED`);
    expect(err.join('\n')).toMatch(/perfpilot: no recommendation: \d+ signals are unknown/);
  });

  it('says which Secret it needs when --secrets-dir is missing', async () => {
    const file = await profileFile(prometheus.url);
    expect(await run('--profile', file)).toBe(1);
    expect(err.join('\n')).toMatch(
      /reading the Redis password from Secret perfpilot\/redis-auth key password/,
    );
  });

  it('rejects a profile that breaks the schema, naming the field', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      stringify({
        apiVersion: 'perfpilot.dev/v1alpha1',
        kind: 'PerformanceProfile',
        spec: { targetRef: { name: 'x' }, mode: 'Sometimes' },
      }),
    );
    expect(await run('--profile', file)).toBe(1);
    expect(err.join('\n')).toMatch(/is not a valid profile:\n {2}spec\.mode: /);
  });

  it('explains itself with --help', async () => {
    expect(await run('--help')).toBe(0);
    const help = out.join('');
    expect(help).toMatch(/Usage: perfpilot recommend \[options\]/);
    expect(help).toMatch(/--profile <file>/);
    expect(help).toMatch(/writes to no cluster/);
  });
});
