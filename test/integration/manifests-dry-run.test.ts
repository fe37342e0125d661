/**
 * Everything `perfpilot synth` committed, proven on a real kube-apiserver (RBAC and Pod Security
 * admission on): the CRD and the Namespace are applied for real, every other object is
 * server-side applied with dry run into the restricted namespace, with zero errors and zero
 * warnings (Pod Security's `warn` mode reports on workload templates as warnings). Monitoring
 * objects, whose CRDs the test server lacks, are validated offline against the Prometheus
 * Operator schemas. The sample PerformanceProfiles are checked too: valid ones are accepted,
 * each invalid one is rejected with a message naming its field.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { CRD_NAME } from '../../operator/src/api/v1alpha1/constants.ts';
import { controlPlaneBinaries } from '../cluster/binaries.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const OFFLINE_KINDS = new Set(['ServiceMonitor', 'PrometheusRule']);

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

let cp: ControlPlane;
let kubectlPath: string;
let work: string;
let namespace: string;

/** kubectl runs the release's kubectl and returns its exit code and output instead of throwing. */
async function kubectl(args: readonly string[], input?: string): Promise<KubectlResult> {
  const argv = [`--kubeconfig=${cp.kubeconfigPath}`, ...args];
  if (input !== undefined) {
    const file = join(work, `input-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, input);
    argv.push('-f', file);
  }
  try {
    const { stdout, stderr } = await run(kubectlPath, argv, { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function manifestsIn(dir: string): Promise<{ file: string; objects: Manifest[] }[]> {
  const files = (await readdir(join(root, dir)))
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort();
  return Promise.all(
    files.map(async (file) => ({
      file: `${dir}/${file}`,
      objects: parseAllDocuments(await readFile(join(root, dir, file), 'utf8')).map(
        (d) => d.toJS() as Manifest,
      ),
    })),
  );
}

const toYaml = (objects: readonly unknown[]) => objects.map((o) => stringify(o)).join('---\n');

beforeAll(async () => {
  [cp, { kubectl: kubectlPath }] = await Promise.all([startControlPlane(), controlPlaneBinaries()]);
  work = await mkdtemp(join(tmpdir(), 'perfpilot-dry-run-'));
  const crd = await kubectl(
    ['apply', '--server-side', '--field-manager=perfpilot-synth'],
    await readFile(join(root, 'crds', `${CRD_NAME}.yaml`), 'utf8'),
  );
  expect(crd, 'applying the CRD').toMatchObject({ code: 0, stderr: '' });
  const established = await kubectl([
    'wait',
    '--for=condition=Established',
    `crd/${CRD_NAME}`,
    '--timeout=60s',
  ]);
  expect(established.code, established.stderr).toBe(0);
  const ns = await kubectl(
    ['apply', '--server-side', '--field-manager=perfpilot-synth'],
    await readFile(join(root, 'manifests/namespace.yaml'), 'utf8'),
  );
  expect(ns, 'applying the Namespace').toMatchObject({ code: 0, stderr: '' });
  namespace =
    (await manifestsIn('manifests')).find((f) => f.file === 'manifests/namespace.yaml')?.objects[0]?.metadata
      .name ?? '';
});

afterAll(async () => {
  await cp?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the synthesized manifests on a real API server', () => {
  it('the namespace enforces Pod Security restricted', async () => {
    const { stdout } = await kubectl(['get', 'namespace', namespace, '-o', 'jsonpath={.metadata.labels}']);
    expect(JSON.parse(stdout)).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  it('kubectl explain documents the PerformanceProfile fields', async () => {
    // Discovery publishes a new CRD's short names a moment after it is Established.
    let result = await kubectl(['explain', 'pp.spec.knobs.replicas.floor']);
    for (let attempt = 0; result.code !== 0 && attempt < 20; attempt++) {
      await new Promise((r) => setTimeout(r, 500));
      result = await kubectl(['explain', 'pp.spec.knobs.replicas.floor']);
    }
    const { code, stdout, stderr } = result;
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('floor is the lowest HPA minReplicas the operator may set');
  });

  it('every object of crds/ and manifests/ server-side applies (dry run) with zero errors and zero warnings', async () => {
    const files = [...(await manifestsIn('crds')), ...(await manifestsIn('manifests'))];
    const checked: string[] = [];
    for (const { file, objects } of files) {
      const online = objects.filter((o) => !OFFLINE_KINDS.has(o.kind));
      if (online.length === 0) continue;
      const result = await kubectl(
        [
          'apply',
          '--server-side',
          '--dry-run=server',
          '--field-manager=perfpilot-synth',
          '--validate=strict',
        ],
        toYaml(online),
      );
      expect({ file, code: result.code, stderr: result.stderr }).toEqual({ file, code: 0, stderr: '' });
      checked.push(...online.map((o) => `${o.kind}/${o.metadata.name}`));
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        'CustomResourceDefinition/performanceprofiles.perfpilot.dev',
        'StatefulSet/redis-cluster',
        'Job/redis-cluster-bootstrap',
        'Deployment/risk-api',
        'HorizontalPodAutoscaler/risk-api',
        'Deployment/perfpilot-operator',
        'Role/perfpilot-operator',
        'PerformanceProfile/risk-api',
      ]),
    );
  });

  it('Pod Security admission would warn on a non-compliant pod (the zero-warning check can fail)', async () => {
    const result = await kubectl(
      ['apply', '--server-side', '--dry-run=server', '--field-manager=perfpilot-synth'],
      toYaml([
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'root-pod', namespace },
          spec: {
            selector: { matchLabels: { app: 'root-pod' } },
            template: {
              metadata: { labels: { app: 'root-pod' } },
              spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
            },
          },
        },
      ]),
    );
    expect(result.stderr).toMatch(/Warning: would violate PodSecurity "restricted/);
  });

  it('monitoring objects validate against the Prometheus Operator schemas', async () => {
    const monitoring = (await manifestsIn('manifests/monitoring'))
      .flatMap((f) => f.objects)
      .filter((o) => OFFLINE_KINDS.has(o.kind));
    expect(monitoring.map((o) => o.kind).sort()).toEqual([
      'PrometheusRule',
      'PrometheusRule',
      'ServiceMonitor',
      'ServiceMonitor',
      'ServiceMonitor',
    ]);
    for (const o of monitoring) {
      // biome-ignore lint/suspicious/noExplicitAny: the models validate whatever they are given
      const model = o.kind === 'PrometheusRule' ? new PrometheusRule(o as any) : new ServiceMonitor(o as any);
      expect(() => model.validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it('kubectl apply -k manifests/ works without the Prometheus Operator CRDs; manifests/monitoring/ needs them', async () => {
    const stack = await kubectl([
      'apply',
      '-k',
      join(root, 'manifests'),
      '--server-side',
      '--dry-run=server',
      '--field-manager=perfpilot-synth',
    ]);
    expect(stack.code, stack.stderr).toBe(0);
    expect(stack.stdout).toContain('deployment.apps/risk-api serverside-applied (server dry run)');
    const monitoring = await kubectl([
      'apply',
      '-k',
      join(root, 'manifests/monitoring'),
      '--server-side',
      '--dry-run=server',
      '--field-manager=perfpilot-synth',
    ]);
    expect(monitoring.code).not.toBe(0);
    expect(monitoring.stderr).toMatch(/ServiceMonitor|monitoring\.coreos\.com/);
  });

  it('kubectl kustomize renders manifests/ with every component', async () => {
    const { code, stdout, stderr } = await kubectl(['kustomize', join(root, 'manifests')]);
    expect(code, stderr).toBe(0);
    const kinds = parseAllDocuments(stdout).map((d) => (d.toJS() as Manifest).kind);
    expect(kinds).toEqual(
      expect.arrayContaining(['Namespace', 'StatefulSet', 'Deployment', 'PerformanceProfile']),
    );
  });
});

describe('the sample PerformanceProfiles on a real API server', () => {
  const samples = join(root, 'crds/samples');

  it('a minimal profile is defaulted by the API server to the seed’s SLOs and the default bounds', async () => {
    const created = await kubectl(
      ['create', '-n', namespace],
      await readFile(join(samples, 'valid-minimal.yaml'), 'utf8'),
    );
    expect(created.code, created.stderr).toBe(0);
    const { stdout } = await kubectl(['get', 'pp', 'minimal', '-n', namespace, '-o', 'json']);
    const spec = JSON.parse(stdout).spec;
    expect(spec).toMatchObject({
      mode: 'Recommend',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'risk-api' },
      slo: {
        p95LatencyMs: 200,
        errorRatePercent: 0.1,
        cacheHitRatePercent: 85,
        poolUsagePercent: 80,
        requestsPerReplica: 1000,
      },
      knobs: {
        poolSize: { min: 5, max: 50 },
        maxOverflow: { min: 0, max: 30 },
        redisMaxmemory: { minMiB: 128, maxMiB: 768, containerMemoryLimitMiB: 1024 },
        replicas: { floor: 2, ceiling: 10 },
      },
      database: { maxConnections: 100, reservedConnections: 10 },
      // The engine runs with exactly these (tuning/tuning-spec-from-profile.ts).
      policy: {
        evaluationIntervalSeconds: 60,
        cooldownSeconds: 600,
        maxStepPercent: 50,
        stabilizationWindowSeconds: 1800,
        verificationWindowSeconds: 600,
        deadbandPercent: 10,
      },
    });
    const listed = await kubectl(['get', 'perfpilot', '-n', namespace]);
    expect(listed.stdout).toMatch(/^NAME\s+MODE\s+READY\s+SLO\s+KNOBS\s+AGE/);
  });

  it('every valid sample is accepted without warnings', async () => {
    const files = (await readdir(samples)).filter((f) => f.startsWith('valid-'));
    for (const file of files) {
      const result = await kubectl(
        ['apply', '--server-side', '--dry-run=server', '--validate=strict', '-n', namespace],
        await readFile(join(samples, file), 'utf8'),
      );
      expect({ file, code: result.code, stderr: result.stderr }).toEqual({ file, code: 0, stderr: '' });
    }
  });

  it('every invalid sample is rejected with a message naming its field', async () => {
    const files = (await readdir(samples)).filter((f) => f.startsWith('invalid-')).sort();
    expect(files.length).toBeGreaterThanOrEqual(30);
    const accepted: string[] = [];
    const unnamed: string[] = [];
    const check = async (file: string) => {
      const text = await readFile(join(samples, file), 'utf8');
      const field = /^# expect-field: (.+)$/m.exec(text)?.[1] ?? '';
      const result = await kubectl(
        ['create', '--dry-run=server', '--validate=strict', '-n', namespace],
        text,
      );
      if (result.code === 0) accepted.push(file);
      else if (!result.stderr.includes(field))
        unnamed.push(`${file}: wanted ${field} in ${result.stderr.trim()}`);
    };
    // Four kubectl processes at a time: two cores, and the API server answers quickly.
    for (let i = 0; i < files.length; i += 4) await Promise.all(files.slice(i, i + 4).map(check));
    expect(accepted).toEqual([]);
    expect(unnamed).toEqual([]);
  });
});
