/**
 * The Helm chart, rendered by the real helm (v4, built from its module by test/tools/helm/build.sh),
 * is the release bundle object by object, at the defaults and at values that change every field;
 * helm lint passes; `npm run release` writes the files and refuses bad values.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { runRelease } from '../../scripts/release.ts';
import { helmBinary } from '../../test/tools/binaries.ts';
import { resolveReleaseValues } from './load-values.ts';
import { CHART_NAME, renderBundle, valuesTable } from './release.ts';
import { RELEASE_NAMESPACE } from './values-release.ts';

const run = promisify(execFile);

interface KubeObject {
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: objects are compared whole
  [k: string]: any;
}

let helm: string;
let out: string;

beforeAll(async () => {
  // The first run builds helm from its module: about six minutes on two cores, once.
  helm = await helmBinary();
  out = await mkdtemp(join(tmpdir(), 'perfpilot-release-'));
  expect(await runRelease({ out }, () => {})).toBe(0);
}, 900_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

const key = (o: KubeObject) => `${o.kind} ${o.metadata.namespace ?? '(cluster)'}/${o.metadata.name}`;

/**
 * normalized drops what only Helm writes: its managed-by label ("Helm" where the constructs say
 * perfpilot-synth) and the CRD's keep annotation, which the keep test checks on its own.
 */
function normalized(objects: readonly KubeObject[]): Record<string, KubeObject> {
  const strip = (meta?: { labels?: Record<string, string>; annotations?: Record<string, string> }) => {
    if (!meta) return;
    if (meta.labels) delete meta.labels['app.kubernetes.io/managed-by'];
    if (meta.annotations) {
      delete meta.annotations['helm.sh/resource-policy'];
      if (Object.keys(meta.annotations).length === 0) delete meta.annotations;
    }
  };
  const copy = structuredClone(objects) as KubeObject[];
  for (const o of copy) {
    strip(o.metadata);
    strip(o.spec?.template?.metadata);
  }
  return Object.fromEntries(copy.map((o) => [key(o), o]));
}

async function helmTemplate(overrides: object): Promise<KubeObject[]> {
  const file = join(out, `values-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, stringify(overrides));
  const { stdout } = await run(
    helm,
    ['template', 'perfpilot', join(out, CHART_NAME), '--namespace', RELEASE_NAMESPACE, '-f', file],
    { maxBuffer: 32 * 1024 * 1024 },
  );
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

/** bundleObjects is what the release bundle installs for these values, without the Namespace (Helm's --create-namespace). */
function bundleObjects(overrides: object): KubeObject[] {
  const values = resolveReleaseValues(overrides);
  const files = renderBundle(values, '0.1.0');
  const objectsOf = (path: string) =>
    parseAllDocuments(files.find((f) => f.path === path)?.content ?? '').map((d) => d.toJS() as KubeObject);
  const monitoring = objectsOf('install-monitoring.yaml').filter(
    (o) =>
      (o.kind === 'ServiceMonitor' && values.serviceMonitor.enabled) ||
      (o.kind === 'PrometheusRule' && values.prometheusRule.enabled),
  );
  return [...objectsOf('install.yaml').filter((o) => o.kind !== 'Namespace'), ...monitoring];
}

const VARIANTS: Record<string, object> = {
  defaults: {},
  'listed namespaces, every toggle turned': {
    image: 'registry.example.com/perfpilot:0.1.0-rc.1',
    replicas: 3,
    resources: { cpuRequestMillis: 200, cpuLimitMillis: 1000, memoryRequestMiB: 192, memoryLimitMiB: 384 },
    logLevel: 'debug',
    args: ['--evaluation-jitter=0.1'],
    watchNamespaces: ['shop', 'payments', 'shop'],
    secretNames: ['redis-auth', 'redis-acl'],
    crds: { install: false },
    podDisruptionBudget: { enabled: false },
    networkPolicy: { enabled: true, monitoringNamespace: 'observability', redisPorts: [6380] },
    serviceMonitor: { enabled: true, intervalSeconds: 15, labels: { release: 'prometheus' } },
    prometheusRule: { enabled: true, labels: { release: 'prometheus' } },
    metrics: { secure: false, port: 9443 },
    rbac: { aggregateToDefaultRoles: true },
    extraObjects: [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'extra', namespace: 'perfpilot' },
        data: { a: 'b' },
      },
    ],
  },
  'monitoring on, /metrics secure': {
    serviceMonitor: { enabled: true },
    prometheusRule: { enabled: true },
  },
  'the operator’s own namespace, no NetworkPolicy': {
    watchNamespaces: [],
    networkPolicy: { enabled: false },
  },
};

describe('the Helm chart is the release bundle', () => {
  it.each(Object.entries(VARIANTS))(
    'helm template at %s gives the same objects',
    async (_name, overrides) => {
      const [chart, bundle] = [await helmTemplate(overrides), bundleObjects(overrides)];
      expect(Object.keys(normalized(chart)).sort()).toEqual(Object.keys(normalized(bundle)).sort());
      expect(normalized(chart)).toEqual(normalized(bundle));
      expect(chart.length).toBeGreaterThanOrEqual(12);
    },
  );

  it('the comparison sees a difference: a changed replica count is caught', async () => {
    const chart = await helmTemplate({ replicas: 4 });
    expect(normalized(chart)).not.toEqual(normalized(bundleObjects({ replicas: 3 })));
  });

  it('keeps the CRD on helm uninstall unless crds.keep is false', async () => {
    const crdOf = async (overrides: object) =>
      (await helmTemplate(overrides)).find((o) => o.kind === 'CustomResourceDefinition');
    expect((await crdOf({}))?.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    expect((await crdOf({ crds: { keep: false } }))?.metadata.annotations).toBeUndefined();
    expect(await crdOf({ crds: { install: false } })).toBeUndefined();
  });

  it('refuses values outside the schema, naming the field', async () => {
    const bad = helmTemplate({ replicas: 9, image: 'perfpilot:latest' });
    await expect(bad).rejects.toThrow(/replicas/);
    await expect(helmTemplate({ image: 'perfpilot:latest' })).rejects.toThrow(/image/);
    await expect(helmTemplate({ watchNamespaces: ['*', 'shop'] })).rejects.toThrow(
      /watchNamespaces: \[\* shop\] is invalid; allowed: namespace names, or \["\*"\] alone/,
    );
  });

  it('helm lint passes', async () => {
    const { stdout } = await run(helm, ['lint', '--strict', join(out, CHART_NAME)]);
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('values.yaml holds the release defaults, and the README their table', async () => {
    const values = parse(await readFile(join(out, CHART_NAME, 'values.yaml'), 'utf8'));
    expect(values).toEqual(resolveReleaseValues({}));
    expect(values.watchNamespaces).toEqual(['*']);
    expect(await readFile(join(out, CHART_NAME, 'README.md'), 'utf8')).toContain(valuesTable());
    expect(valuesTable()).toContain('| `rbac.aggregateToDefaultRoles` | `false` |');
  });
});

describe('npm run release', () => {
  it('writes the CRD alone, the install and the monitoring files', async () => {
    const kinds = async (file: string) =>
      parseAllDocuments(await readFile(join(out, file), 'utf8')).map((d) => (d.toJS() as KubeObject).kind);
    expect(await kinds('crds.yaml')).toEqual(['CustomResourceDefinition']);
    expect((await kinds('install.yaml')).sort()).toEqual(
      [
        'Namespace',
        'CustomResourceDefinition',
        'ServiceAccount',
        'ClusterRole',
        'ClusterRoleBinding',
        'Role',
        'RoleBinding',
        'ClusterRole',
        'ClusterRole',
        'ClusterRole',
        // The token and access reviews behind a secure /metrics (metrics-auth-role.ts).
        'ClusterRole',
        'ClusterRoleBinding',
        'Deployment',
        'Service',
        'PodDisruptionBudget',
        'NetworkPolicy',
      ].sort(),
    );
    expect((await kinds('install-monitoring.yaml')).sort()).toEqual(['PrometheusRule', 'ServiceMonitor']);
  });

  it('writes nothing and exits 2 on invalid values, naming the field and the bound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'perfpilot-release-bad-'));
    const values = join(dir, 'values.yaml');
    await writeFile(values, 'replicas: 9\nwatchNamespaces: [shop, "*"]\n');
    const errors: string[] = [];
    const error = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      expect(await runRelease({ out: join(dir, 'out'), values }, () => {})).toBe(2);
    } finally {
      console.error = error;
    }
    expect(errors.join('\n')).toContain('replicas: 9 is invalid; allowed: an integer from 1 to 5');
    await expect(readFile(join(dir, 'out', 'install.yaml'))).rejects.toThrow(/ENOENT/);
    await rm(dir, { recursive: true, force: true });
  });
});
