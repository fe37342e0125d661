/**
 * The operator runtime on a real API server (issue goals in brackets):
 * - event-to-status latency for one profile: spec change → status.observedGeneration [p99 < 50 ms]
 * - start to all of N profiles reconciled (N = 1000 unless PERFPILOT_BENCH_PROFILES says) [< 10 s]
 * - API write requests per minute at steady state, when nothing changes [0]
 * - the operator process's RSS with N profiles [< 150 MB]
 * The operator runs as its own process (`perfpilot operator`), as it would in a pod.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { GROUP, type PerformanceProfile, PLURAL, VERSION } from '../operator/src/api/v1alpha1/index.ts';
import { type ControlPlane, startControlPlane } from '../test/cluster/control-plane.ts';
import { createNamespace } from '../test/cluster/kube.ts';
import { freePort } from '../test/cluster/processes.ts';
import { createTargetStack, installCrd, ProfileBuilder, profileApi } from '../test/integration/fixtures.ts';

const bin = fileURLToPath(new URL('../bin/perfpilot.js', import.meta.url));
const profileCount = Number(process.env.PERFPILOT_BENCH_PROFILES ?? 1000);
const latencySamples = 60;
const steadyWindowMs = 60_000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function startOperatorProcess(
  cp: ControlPlane,
  namespace: string,
): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      bin,
      'operator',
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--watch-namespace=${namespace}`,
      `--metrics-port=${port}`,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, LEADER_ELECT: 'false', LOG_LEVEL: 'warn', POD_NAME: 'bench-operator' },
    },
  );
  for (let i = 0; i < 300; i++) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { child, port };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('operator not ready after 30 s');
}

async function stopOperator(child: ChildProcess): Promise<void> {
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
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    writes.set(resource, (writes.get(resource) ?? 0) + value);
  }
  return writes;
}

/** Time from a spec change to the status that reports its generation, seen through a watch. */
async function eventToStatusLatency(cp: ControlPlane, namespace: string): Promise<number[]> {
  const profiles = profileApi(cp.kubeConfig);
  await profiles.create(new ProfileBuilder(namespace, 'latency', 'risk-api').build());
  let waiting: { generation: number; resolve: () => void } | undefined;
  const watch = await new Watch(cp.kubeConfig).watch(
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    { fieldSelector: 'metadata.name=latency' },
    (_phase, obj: PerformanceProfile) => {
      if (waiting && (obj.status?.observedGeneration ?? 0) >= waiting.generation) waiting.resolve();
    },
    () => {},
  );
  const samples: number[] = [];
  try {
    const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
    for (let i = 0; i < latencySamples; i++) {
      const seen = new Promise<void>((resolve) => {
        waiting = { generation: Number.POSITIVE_INFINITY, resolve };
      });
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
      if (waiting) waiting.generation = updated.metadata.generation ?? 0;
      await seen;
      samples.push(performance.now() - started);
    }
  } finally {
    watch.abort();
  }
  return samples.sort((a, b) => a - b);
}

async function createProfiles(cp: ControlPlane, namespace: string, count: number): Promise<void> {
  const profiles = profileApi(cp.kubeConfig);
  const batch = 25;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, (_, j) =>
        profiles.create(
          new ProfileBuilder(namespace, `p-${String(i + j).padStart(4, '0')}`, 'risk-api').build(),
        ),
      ),
    );
  }
}

async function countReconciled(cp: ControlPlane, namespace: string): Promise<number> {
  const list = (await cp.kubeConfig.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: PLURAL,
  })) as { items: PerformanceProfile[] };
  return list.items.filter((p) => p.status?.observedGeneration === p.metadata.generation).length;
}

/** run prints the operator runtime's table. */
export async function run(): Promise<void> {
  const cp = await startControlPlane();
  try {
    await installCrd(cp);
    await createNamespace(cp.kubeConfig, 'latency');
    await createTargetStack(cp.kubeConfig, 'latency', 'risk-api');
    await createNamespace(cp.kubeConfig, 'fleet');
    await createTargetStack(cp.kubeConfig, 'fleet', 'risk-api');

    // 1. Latency, one profile, operator idle otherwise.
    const one = await startOperatorProcess(cp, 'latency');
    const latency = await eventToStatusLatency(cp, 'latency');
    await stopOperator(one.child);

    // 2. N profiles created first, then the operator started: time until all are reconciled.
    console.error(`bench: creating ${profileCount} profiles`);
    await createProfiles(cp, 'fleet', profileCount);
    const startedAt = performance.now();
    const fleet = await startOperatorProcess(cp, 'fleet');
    let reconciled = 0;
    while (reconciled < profileCount && performance.now() - startedAt < 300_000) {
      await new Promise((r) => setTimeout(r, 250));
      reconciled = await countReconciled(cp, 'fleet');
    }
    const allReconciledMs = performance.now() - startedAt;

    // 3. Steady state: writes per minute while nothing changes (reads of our own counters excluded).
    await new Promise((r) => setTimeout(r, 5000));
    const before = await apiWrites(cp);
    await new Promise((r) => setTimeout(r, steadyWindowMs));
    const after = await apiWrites(cp);
    const steadyWrites = [...after]
      // The API server renews its own identity Lease every 10 s; that is not the operator.
      .filter(([resource]) => resource !== 'leases')
      .map(([resource, n]) => [resource, n - (before.get(resource) ?? 0)] as const)
      .filter(([, n]) => n > 0);
    const writesPerMinute = steadyWrites.reduce((sum, [, n]) => sum + n, 0) / (steadyWindowMs / 60_000);
    const rss = rssMiB(fleet.child.pid ?? 0);
    await stopOperator(fleet.child);

    const row = (what: string, value: string, goal: string, met: boolean) =>
      `| ${what} | ${value} | ${goal} | ${met ? 'met' : 'MISSED'} |`;
    const p50 = percentile(latency, 50);
    const p99 = percentile(latency, 99);
    console.log(
      `operator runtime on a real kube-apiserver (${latency.length} latency samples, ${profileCount} profiles)\n`,
    );
    console.log('| measure | value | goal | |');
    console.log('| --- | --- | --- | --- |');
    console.log(row('event → status latency p50', `${p50.toFixed(1)} ms`, '', true));
    console.log(row('event → status latency p99', `${p99.toFixed(1)} ms`, '< 50 ms', p99 < 50));
    console.log(
      row(
        `start → ${profileCount} profiles reconciled`,
        reconciled < profileCount
          ? `${reconciled} after ${(allReconciledMs / 1000).toFixed(1)} s`
          : `${(allReconciledMs / 1000).toFixed(2)} s`,
        '< 10 s',
        reconciled === profileCount && allReconciledMs < 10_000,
      ),
    );
    console.log(
      row(
        'API writes per minute at steady state',
        `${writesPerMinute.toFixed(1)}${steadyWrites.length ? ` (${steadyWrites.map(([r, n]) => `${r} ${n}`).join(', ')})` : ''}`,
        '0',
        writesPerMinute === 0,
      ),
    );
    console.log(
      row(
        `operator RSS with ${profileCount} profiles`,
        `${rss.toFixed(0)} MiB`,
        '< 150 MB',
        rss * 1.048576 < 150,
      ),
    );
  } finally {
    await cp.stop();
  }
}
