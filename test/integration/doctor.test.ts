/**
 * `perfpilot doctor` against real components: a real API server (RBAC on), Debian's Prometheus
 * scraping the test exporter's risk API series, and real redis-servers. A healthy profile is ok
 * on every line (exit 0); a renamed query, a wrong Redis password, CONFIG SET denied by Redis's
 * ACL, a verb missing from the operator's Role and a tuned field owned by another field manager
 * each fail on their own line, with the cause and a fix (exit 1), and the printed fixes work.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { operatorRules } from '../../charts-ts/src/operator-rbac.ts';
import type { PerformanceProfile } from '../../operator/src/api/v1alpha1/index.ts';
import type { DoctorLine } from '../../operator/src/onboard/doctor-report.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { driveRiskApiSeries, startTestExporter, type TestExporter } from '../cluster/exporter.ts';
import { createNamespace } from '../cluster/kube.ts';
import { type PrometheusServer, startPrometheus } from '../cluster/prometheus.ts';
import { type RedisServer, startRedis } from '../cluster/redis.ts';
import { createTargetStack, installCrd, ProfileBuilder, profileApi } from './fixtures.ts';

const NS = 'shop';
const API = 'risk-api';
const OPERATOR_NS = 'perfpilot';
const SECRETS = ['redis-auth', 'redis-wrong'];

let cp: ControlPlane;
let exporter: TestExporter;
let prometheus: PrometheusServer;
let redis: RedisServer;
let lockedRedis: RedisServer;
let managedRedis: RedisServer;
let stopTraffic: () => void;
let dir: string;

interface DoctorRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** doctor runs `perfpilot doctor` as a user would, through its bin, against the test cluster. */
async function doctor(args: readonly string[]): Promise<DoctorRun> {
  return await new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/perfpilot.js', 'doctor', ...args],
      { env: { ...process.env, KUBECONFIG: cp.kubeconfigPath }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** doctorJson runs doctor with --json and returns its exit code and lines. */
async function doctorJson(args: readonly string[]): Promise<{ code: number; lines: DoctorLine[] }> {
  const run = await doctor([...args, '--json']);
  if (!run.stdout.startsWith('{'))
    throw new Error(`doctor printed no JSON (exit ${run.code}): ${run.stderr}`);
  return { code: run.code, lines: (JSON.parse(run.stdout) as { checks: DoctorLine[] }).checks };
}

const notOk = (lines: readonly DoctorLine[]) => lines.filter((l) => l.verdict !== 'ok');

/** The profile of the test: Auto (so a contested field fails), on the test's Prometheus and Redis. */
function profile(name: string, metrics: Record<string, unknown> = {}): PerformanceProfile {
  const p = new ProfileBuilder(NS, name, API).mode('Auto').build();
  p.spec.metrics = {
    prometheus: { url: prometheus.url, stalenessSeconds: 30 },
    redis: { endpoints: [`127.0.0.1:${redis.port}`], passwordSecretRef: { name: 'redis-auth' } },
    ...metrics,
  } as PerformanceProfile['spec']['metrics'];
  return p;
}

/** runFix runs the kubectl commands of a fix one after the other as printed: plain lines, and heredoc bodies as files. */
async function runFix(fix: string): Promise<void> {
  const lines = fix.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.startsWith('kubectl ')) continue;
    // Words as a shell splits them here: single-quoted ones whole, without their quotes.
    const args = (line.match(/'[^']*'|\S+/g) ?? []).slice(1).map((w) => w.replace(/^'(.*)'$/, '$1'));
    if (line.endsWith("<<'YAML'")) {
      const end = lines.indexOf('YAML', i);
      const file = join(dir, `fix-${i}-${Date.now()}.yaml`);
      writeFileSync(file, lines.slice(i + 1, end).join('\n'));
      await cp.kubectl([...args.slice(0, args.indexOf('-')), file]);
      i = end;
    } else await cp.kubectl(args);
  }
}

async function grantRole(namespace: string, name: string, account: string, rules: V1PolicyRule[]) {
  const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: account, namespace: OPERATOR_NS }],
    },
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'perfpilot-doctor-'));
  exporter = await startTestExporter();
  [cp, prometheus, redis, lockedRedis, managedRedis] = await Promise.all([
    startControlPlane(),
    startPrometheus({
      scrapeTargets: [{ address: exporter.address, job: API, labels: { namespace: NS } }],
      scrapeIntervalSeconds: 1,
    }),
    startRedis({ password: 'doctor-redis-password' }),
    startRedis({ password: 'doctor-redis-password' }),
    startRedis({ password: 'doctor-redis-password' }),
  ]);
  stopTraffic = driveRiskApiSeries(exporter, API).stop;
  // CONFIG SET denied by Redis's own ACL: the default user keeps every command but that one.
  const locked = lockedRedis.client();
  await locked.call('ACL', 'SETUSER', 'default', '-config|set');
  locked.disconnect();
  // A managed Redis that refuses CONFIG altogether, as several cloud offerings do.
  const managed = managedRedis.client();
  await managed.call('ACL', 'SETUSER', 'default', '-config');
  managed.disconnect();

  await installCrd(cp);
  await createNamespace(cp.kubeConfig, NS);
  await createNamespace(cp.kubeConfig, OPERATOR_NS);
  await createTargetStack(cp.kubeConfig, NS, API);
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const [name, password] of [
    ['redis-auth', redis.password],
    ['redis-wrong', 'not-the-password'],
  ] as const) {
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name }, stringData: { password } },
    });
  }
  // The operator's ServiceAccount with the toolkit's Role, in the profile's namespace and its own
  // (the Lease); and one whose Role lacks `patch` on HPAs.
  for (const account of ['perfpilot-operator', 'limited']) {
    await core.createNamespacedServiceAccount({
      namespace: OPERATOR_NS,
      body: { metadata: { name: account } },
    });
  }
  const rules = operatorRules(SECRETS);
  await grantRole(NS, 'perfpilot-operator', 'perfpilot-operator', rules);
  await grantRole(OPERATOR_NS, 'perfpilot-operator', 'perfpilot-operator', rules);
  await grantRole(
    NS,
    'limited',
    'limited',
    rules.map((r) =>
      r.resources?.includes('horizontalpodautoscalers')
        ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') }
        : r,
    ),
  );
  await grantRole(OPERATOR_NS, 'limited', 'limited', rules);
  const profiles = profileApi(cp.kubeConfig);
  await profiles.create(profile(API));
  await profiles.create(
    profile('wrong-password', {
      redis: { endpoints: [`127.0.0.1:${redis.port}`], passwordSecretRef: { name: 'redis-wrong' } },
    }),
  );
  await profiles.create(
    profile('config-refused', {
      redis: { endpoints: [`127.0.0.1:${managedRedis.port}`], passwordSecretRef: { name: 'redis-auth' } },
    }),
  );
  await profiles.create(
    profile('config-denied', {
      redis: { endpoints: [`127.0.0.1:${lockedRedis.port}`], passwordSecretRef: { name: 'redis-auth' } },
    }),
  );
  // Every rate of the default queries needs two scrapes of moving counters, the 5xx one an error.
  await prometheus.waitForSeries(`rate(http_request_duration_seconds_count{job="${API}"}[2m]) > 0`);
  await prometheus.waitForSeries(`rate(database_pool_wait_seconds_count{job="${API}"}[5m]) > 0`);
  await prometheus.waitForSeries(
    `rate(http_request_duration_seconds_count{job="${API}",status_code="500"}[5m]) > 0`,
  );
  await prometheus.waitForSeries(`rate(redis_keyspace_hits_total{namespace="${NS}"}[5m]) > 0`);
});

afterAll(async () => {
  stopTraffic?.();
  await Promise.all([
    cp?.stop(),
    prometheus?.stop(),
    exporter?.stop(),
    redis?.stop(),
    lockedRedis?.stop(),
    managedRedis?.stop(),
  ]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('perfpilot doctor', () => {
  it('fails a fresh stack on the fields its creator owns, and its hand-over commands make every line ok', async () => {
    const fresh = await doctorJson([`${NS}/${API}`]);
    expect(fresh.code).toBe(1);
    const contested = notOk(fresh.lines);
    expect(contested.map((l) => [l.verdict, l.check])).toEqual([
      ['fail', `fields of HorizontalPodAutoscaler ${API}`],
      ['fail', `fields of ConfigMap ${API}-tuning`],
    ]);
    expect(contested[0]?.detail).toMatch(/\(Update\) owns spec\.minReplicas, spec\.maxReplicas: in Auto/);
    for (const line of contested) await runFix(line.fix ?? '');

    const healthy = await doctor([`${NS}/${API}`]);
    console.log(`$ perfpilot doctor ${NS}/${API}\n${healthy.stdout}`);
    expect(healthy.stderr).toBe('');
    expect(healthy.code).toBe(0);
    const { lines } = await doctorJson([`${NS}/${API}`]);
    expect(notOk(lines)).toEqual([]);
    // Every check is there: the target, all 17 signals with their queries, Redis, 8 resources of access (no KEDA ScaledObject: KEDA does not own this HPA), owners.
    expect(lines.filter((l) => l.check.startsWith('signal ')).length).toBe(17);
    expect(lines.find((l) => l.check === 'signal p95LatencyMs')?.more?.[0]).toMatch(
      /^query: 1000 \* histogram_quantile\(0\.95, .*namespace="shop",job="risk-api"/,
    );
    expect(lines.find((l) => l.check === `Redis 127.0.0.1:${redis.port}`)?.detail).toMatch(
      /^master, authenticated as default, maxmemory \d+, CONFIG SET permitted/,
    );
    expect(lines.filter((l) => l.check.startsWith('access ')).length).toBe(8);
    expect(lines.map((l) => l.check)).toContain('HPA owner');
    // The fixture's HPA sets no tolerance: the operator models it with the cluster's default.
    expect(lines.find((l) => l.check === 'HPA tolerance')?.detail).toMatch(
      /^scale-up 10 % \(the cluster default\), scale-down 10 % \(the cluster default\)/,
    );
  });

  it('names a renamed query, what came back and where to fix it', async () => {
    const p = profile(API);
    p.spec.metrics.prometheus = {
      ...(p.spec.metrics.prometheus as NonNullable<PerformanceProfile['spec']['metrics']['prometheus']>),
      queries: {
        p95LatencyMs:
          '1000 * histogram_quantile(0.95, sum by (le) (rate(http_server_duration_seconds_bucket{namespace="$namespace",job="$deployment"}[5m])))',
      },
    };
    const file = join(dir, 'renamed.yaml');
    writeFileSync(file, stringify(p));
    const run = await doctorJson(['--profile', file]);
    expect(run.code).toBe(1);
    expect(notOk(run.lines)).toEqual([
      {
        verdict: 'fail',
        check: 'signal p95LatencyMs',
        detail: 'empty: the query returned no series',
        more: [
          'query: 1000 * histogram_quantile(0.95, sum by (le) (rate(http_server_duration_seconds_bucket{namespace="shop",job="risk-api"}[5m])))',
        ],
        fix: "no series matches: check the metric name and labels of spec.metrics.prometheus.queries.p95LatencyMs in Prometheus's graph page",
      },
    ]);
  });

  it('says a wrong Redis password is an authentication failure and names the Secret', async () => {
    const run = await doctorJson([`${NS}/wrong-password`]);
    expect(run.code).toBe(1);
    const bad = notOk(run.lines);
    expect(bad.map((l) => [l.verdict, l.check])).toEqual([['fail', `Redis 127.0.0.1:${redis.port}`]]);
    expect(bad[0]?.detail).toMatch(/^authentication failed: .*WRONGPASS/);
    expect(bad[0]?.fix).toBe(
      `check that Secret ${NS}/redis-wrong key "password" holds this node's password (requirepass)`,
    );
  });

  it('says CONFIG SET is denied by the node’s ACL, without running it', async () => {
    const client = lockedRedis.client();
    const before = await client.call('CONFIG', 'GET', 'maxmemory');
    const run = await doctor([`${NS}/config-denied`]);
    console.log(`$ perfpilot doctor ${NS}/config-denied\n${run.stdout}`);
    const { code, lines } = await doctorJson([`${NS}/config-denied`]);
    expect(code).toBe(1);
    const bad = notOk(lines);
    expect(bad.map((l) => [l.verdict, l.check])).toEqual([['fail', `Redis 127.0.0.1:${lockedRedis.port}`]]);
    expect(bad[0]?.detail).toMatch(/CONFIG SET denied to user default: .*config\|set/);
    expect(bad[0]?.fix).toMatch(/^ACL SETUSER default \+config\|set/);
    expect(await client.call('CONFIG', 'GET', 'maxmemory')).toEqual(before);
    client.disconnect();
  });

  it('says a node that refuses CONFIG GET cannot have maxmemory read or set', async () => {
    const { code, lines } = await doctorJson([`${NS}/config-refused`]);
    expect(code).toBe(1);
    const bad = notOk(lines);
    expect(bad.map((l) => [l.verdict, l.check])).toEqual([['fail', `Redis 127.0.0.1:${managedRedis.port}`]]);
    expect(bad[0]?.detail).toMatch(
      /^master, CONFIG GET maxmemory refused: NOPERM .*; perfpilot can neither read nor set maxmemory$/,
    );
    expect(bad[0]?.fix).toMatch(/^allow CONFIG GET and CONFIG SET to the user the profile authenticates as/);
  });

  it('names the verb missing from the operator’s Role, and the commands that grant it work', async () => {
    const as = `system:serviceaccount:${OPERATOR_NS}:limited`;
    const run = await doctorJson([`${NS}/${API}`, '--as', as]);
    expect(run.code).toBe(1);
    const bad = notOk(run.lines);
    expect(bad.map((l) => [l.verdict, l.check, l.detail])).toEqual([
      [
        'fail',
        'access horizontalpodautoscalers.autoscaling',
        `denied for ${as}: patch horizontalpodautoscalers.autoscaling ${API} in ${NS}`,
      ],
    ]);
    expect(bad[0]?.fix).toBe(
      `kubectl -n ${NS} create role perfpilot-horizontalpodautoscalers --verb=patch --resource=horizontalpodautoscalers.autoscaling --resource-name=${API}\n` +
        `kubectl -n ${NS} create rolebinding perfpilot-horizontalpodautoscalers --role=perfpilot-horizontalpodautoscalers --serviceaccount=${OPERATOR_NS}:limited`,
    );
    await runFix(bad[0]?.fix ?? '');
    expect(notOk((await doctorJson([`${NS}/${API}`, '--as', as])).lines)).toEqual([]);
  });

  it('names another field manager of minReplicas, and hands the field back', async () => {
    const hpa = join(dir, 'gitops-hpa.yaml');
    writeFileSync(
      hpa,
      stringify({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: API, namespace: NS },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: API },
          minReplicas: 2,
          maxReplicas: 10,
        },
      }),
    );
    await cp.kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', hpa]);
    const run = await doctor([`${NS}/${API}`]);
    console.log(`$ perfpilot doctor ${NS}/${API}\n${run.stdout}`);
    expect(run.code).toBe(1);
    const { lines } = await doctorJson([`${NS}/${API}`]);
    const bad = notOk(lines);
    expect(bad.map((l) => [l.verdict, l.check])).toEqual([
      ['fail', `fields of HorizontalPodAutoscaler ${API}`],
    ]);
    expect(bad[0]?.detail).toBe(
      'gitops (Apply) owns spec.minReplicas, spec.maxReplicas: in Auto, perfpilot’s first change of them is refused (409 Conflict)',
    );
    expect(bad[0]?.fix).toContain('then drop these fields from what gitops applies, and apply it again');
    await runFix(bad[0]?.fix ?? '');
    // What the fix asks of the GitOps tool: its manifest without the two fields, applied again.
    writeFileSync(
      hpa,
      stringify({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: API, namespace: NS },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: API } },
      }),
    );
    await cp.kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', hpa]);
    expect(notOk((await doctorJson([`${NS}/${API}`])).lines)).toEqual([]);
    // The object perfpilot would write is as it was: only the owner changed.
    const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
    const read = (await objects.read({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: API, namespace: NS },
    })) as { spec: { minReplicas: number; maxReplicas: number } };
    expect(read.spec).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
  });

  it('compares the HPA’s reading of the request-rate metric with the profile’s request rate', async () => {
    // The HPA controller's status, as it writes it, on 2 pods.
    const metricName = 'requests_per_second';
    const reading = async (averageValue: string) => {
      const status = {
        currentReplicas: 2,
        desiredReplicas: 2,
        currentMetrics: [
          { type: 'External', external: { metric: { name: metricName }, current: { averageValue } } },
        ],
      };
      await cp.kubectl([
        'patch',
        'hpa',
        API,
        '-n',
        NS,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status }),
      ]);
      const { lines } = await doctorJson([`${NS}/rate-check`]);
      return lines;
    };
    const p = profile('rate-check');
    p.spec.knobs = {
      ...p.spec.knobs,
      hpaTarget: { requestRate: { metricName, minPerPod: 1, maxPerPod: 900 } },
    } as PerformanceProfile['spec']['knobs'];
    await profileApi(cp.kubeConfig).create(p);
    // The request rate doctor reads from Prometheus, and half of it a pod: what the HPA would read.
    const signal = (await reading('1')).find((l) => l.check === 'signal requestsPerSecond');
    const rps = Number(/^1 series: ([\d.,]+)/.exec(signal?.detail ?? '')?.[1]?.replaceAll(',', ''));
    expect(rps).toBeGreaterThan(0);
    const perPod = Math.round(rps / 2);
    const same = (await reading(String(perPod))).find((l) => l.check === 'HPA request-rate metric');
    expect(same).toMatchObject({
      verdict: 'ok',
      detail: expect.stringMatching(
        new RegExp(`^the HPA reads ${metricName} at ${perPod}/pod, the profile `),
      ),
    });
    // A metric per minute reads 60 times as much: the operator would hold the target.
    const perMinute = (await reading(String(perPod * 60))).find((l) => l.check === 'HPA request-rate metric');
    expect(perMinute).toMatchObject({
      verdict: 'warn',
      detail: expect.stringMatching(
        new RegExp(
          `^${metricName} reads ${perPod * 60}/pod on 2 pods, the profile .*: not the same requests per second: the operator holds the request-rate target$`,
        ),
      ),
    });
  });

  it('says the bounds of a KEDA-owned HPA go to its ScaledObject, and fails while that does not exist', async () => {
    const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
    await objects.patch(
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: {
          name: API,
          namespace: NS,
          ownerReferences: [
            {
              apiVersion: 'keda.sh/v1alpha1',
              kind: 'ScaledObject',
              name: API,
              uid: '6c4d0c8e-0000-4000-8000-000000000001',
            },
          ],
        },
      },
      undefined,
      undefined,
      'test',
      undefined,
      PatchStrategy.MergePatch,
    );
    const { code, lines } = await doctorJson([`${NS}/${API}`]);
    expect(code).toBe(1);
    expect(notOk(lines)).toEqual([
      {
        verdict: 'fail',
        check: 'target ScaledObject',
        detail: `${NS}/${API} not found: the profile goes Ready=False (TargetNotFound) and changes nothing`,
        fix: `install KEDA and create ScaledObject ${API}, or name the right one in spec.targetRef.scaledObjectName`,
      },
    ]);
    expect(lines).toContainEqual({
      verdict: 'ok',
      check: 'HPA owner',
      detail: `KEDA owns this HPA (ScaledObject ${API}): perfpilot tunes minReplicaCount/maxReplicaCount on the ScaledObject and never writes the HPA`,
    });
    expect(lines.find((l) => l.check === 'access scaledobjects.keda.sh')).toMatchObject({
      verdict: 'ok',
      detail: expect.stringMatching(new RegExp(`^get, patch in ${NS} \\(${API}\\): allowed`)),
    });
  });
});
