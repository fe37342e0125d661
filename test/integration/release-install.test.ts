/**
 * The release on a real API server with the controllers and a kwok node: `kubectl apply
 * --server-side -f install.yaml` gives the Deployment's Pods Ready on the node; the bundle's
 * operator process, run with the Deployment's command, args and environment and only its
 * ServiceAccount's token, is Ready and reconciles a profile in another namespace; each profile
 * form's access is granted where the operator tunes and refused elsewhere (SubjectAccessReview),
 * for all namespaces and for a list; and `helm install` of the chart gives the same running operator.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Container,
  type V1Deployment,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { CHART_NAME } from '../../charts-ts/src/release.ts';
import { RELEASE_NAMESPACE } from '../../charts-ts/src/values-release.ts';
import { OPERATOR_BUNDLE } from '../../operator/src/node-flags.ts';
import { buildOperatorBundle } from '../../scripts/operator-bundle.ts';
import { runRelease } from '../../scripts/release.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { freePort } from '../cluster/processes.ts';
import { helmBinary } from '../tools/binaries.ts';
import { createTargetStack, ProfileBuilder, profileApi } from './fixtures.ts';

const run = promisify(execFile);
const OPERATOR = 'perfpilot-operator';
/** HELM_NAMESPACE is where the chart installs its operator, apart from the bundle's. */
const HELM_NAMESPACE = 'operators';
/** Namespaces with services to tune, and one the operator must not touch when given a list. */
const SHOP = 'shop';
const PAYMENTS = 'payments';

let cp: ControlPlane;
let work: string;
let bundle: string;
let helm: string;
const running = new Set<ChildProcess>();

interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string };
}

async function releaseObjects(): Promise<(KubeObject & Partial<V1Deployment>)[]> {
  return parseAllDocuments(await readFile(join(work, 'release', 'install.yaml'), 'utf8')).map(
    (d) => d.toJS() as KubeObject,
  );
}

/** operatorContainer is the release Deployment's operator container: how the image runs it. */
async function operatorContainer(): Promise<V1Container> {
  const deployment = (await releaseObjects()).find((o) => o.kind === 'Deployment') as
    | V1Deployment
    | undefined;
  const container = deployment?.spec?.template.spec?.containers.find((c) => c.name === 'operator');
  if (!container) throw new Error('install.yaml has no operator container');
  return container;
}

/** podsReadyOnNode waits for the Deployment's Pods, `replicas` of them, Ready on the kwok node. */
async function podsReadyOnNode(namespace: string, replicas: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const pods = await cp.kubeConfig
        .makeApiClient(CoreV1Api)
        .listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/name=${OPERATOR}` });
      const ready = pods.items.filter(
        (p) =>
          p.spec?.nodeName === cp.nodeName &&
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      expect(ready.length).toBe(replicas);
    },
    { timeout: 120_000, interval: 500 },
  );
}

/** kubeconfigAs writes a kubeconfig holding only a fresh token of the operator's ServiceAccount. */
async function kubeconfigAs(namespace: string): Promise<string> {
  const token = await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    namespace,
    name: OPERATOR,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = cp.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('no cluster in kubeconfig');
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(cluster, { name: OPERATOR, token: token.status?.token ?? '' });
  const path = join(work, `${namespace}-operator.kubeconfig`);
  await writeFile(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}

/** allowed asks the API server (SubjectAccessReview) whether the operator's ServiceAccount may do this. */
async function allowed(operatorNamespace: string, attributes: V1ResourceAttributes): Promise<boolean> {
  const review = await cp.kubeConfig.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
    body: {
      spec: {
        user: `system:serviceaccount:${operatorNamespace}:${OPERATOR}`,
        groups: [
          'system:serviceaccounts',
          `system:serviceaccounts:${operatorNamespace}`,
          'system:authenticated',
        ],
        resourceAttributes: attributes,
      },
    },
  });
  return review.status?.allowed ?? false;
}

/** FORMS are what each profile form needs in a tuned namespace (charts-ts/src/operator-rbac.ts). */
const FORMS: Record<string, V1ResourceAttributes[]> = {
  'the profile and its status': [
    { verb: 'watch', group: 'perfpilot.dev', resource: 'performanceprofiles' },
    { verb: 'patch', group: 'perfpilot.dev', resource: 'performanceprofiles', subresource: 'status' },
  ],
  'pool in a ConfigMap (and the Redis persistence ConfigMap)': [
    { verb: 'list', resource: 'configmaps' },
    { verb: 'patch', resource: 'configmaps', name: 'api-tuning' },
  ],
  'pool in env vars, and the config-hash roll': [
    { verb: 'patch', group: 'apps', resource: 'deployments', name: 'api' },
  ],
  'replica bounds on the HPA': [
    { verb: 'patch', group: 'autoscaling', resource: 'horizontalpodautoscalers' },
  ],
  'replica bounds on a KEDA ScaledObject': [
    { verb: 'get', group: 'keda.sh', resource: 'scaledobjects', name: 'api' },
    { verb: 'patch', group: 'keda.sh', resource: 'scaledobjects', name: 'api' },
  ],
  Events: [{ verb: 'create', group: 'events.k8s.io', resource: 'events' }],
};

/** NEVER are what the operator may do nowhere. */
const NEVER: V1ResourceAttributes[] = [
  { verb: 'delete', group: 'apps', resource: 'deployments', name: 'api' },
  { verb: 'list', resource: 'secrets' },
  { verb: 'update', group: 'apps', resource: 'deployments', subresource: 'scale', name: 'api' },
  { verb: 'create', resource: 'pods' },
];

async function checkForms(
  operatorNamespace: string,
  namespace: string,
  expected: boolean,
): Promise<string[]> {
  const wrong: string[] = [];
  for (const [form, checks] of Object.entries(FORMS)) {
    for (const check of checks) {
      if ((await allowed(operatorNamespace, { ...check, namespace })) !== expected) {
        wrong.push(`${form}: ${check.verb} ${check.resource} in ${namespace}`);
      }
    }
  }
  return wrong;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'perfpilot-release-install-'));
  [cp, bundle, helm] = await Promise.all([
    startControlPlane({ controllers: true }),
    buildOperatorBundle(join(work, 'operator.js')),
    helmBinary(),
  ]);
  expect(await runRelease({ out: join(work, 'release') }, () => {})).toBe(0);
  for (const ns of [SHOP, PAYMENTS]) {
    await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
  }
}, 900_000);

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await cp?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the release bundle', () => {
  it('kubectl apply --server-side -f install.yaml: the operator’s Pods are Ready on the node', async () => {
    const applied = await cp.kubectl(['apply', '--server-side', '-f', join(work, 'release', 'install.yaml')]);
    expect(applied.stdout).toContain(`deployment.apps/${OPERATOR} serverside-applied`);
    await podsReadyOnNode(RELEASE_NAMESPACE, 2);
  });

  it('grants every profile form in any namespace (all namespaces), the Lease only in its own, and nothing more', async () => {
    for (const ns of [SHOP, PAYMENTS, RELEASE_NAMESPACE]) {
      expect(await checkForms(RELEASE_NAMESPACE, ns, true)).toEqual([]);
    }
    const lease = { verb: 'update', group: 'coordination.k8s.io', resource: 'leases' };
    expect(await allowed(RELEASE_NAMESPACE, { ...lease, namespace: RELEASE_NAMESPACE })).toBe(true);
    expect(await allowed(RELEASE_NAMESPACE, { ...lease, namespace: SHOP })).toBe(false);
    // No Secret is named by default: none is readable.
    expect(
      await allowed(RELEASE_NAMESPACE, {
        verb: 'get',
        resource: 'secrets',
        name: 'redis-auth',
        namespace: SHOP,
      }),
    ).toBe(false);
    for (const check of NEVER)
      expect(await allowed(RELEASE_NAMESPACE, { ...check, namespace: SHOP }), check.verb).toBe(false);
  });

  it('the bundle’s operator process, with the Deployment’s command, args and env and only its token, is Ready and tunes another namespace', async () => {
    const container = await operatorContainer();
    const [node, script, ...rest] = container.command ?? [];
    expect([node, script]).toEqual(['node', OPERATOR_BUNDLE]);
    const literalEnv = Object.fromEntries(
      (container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]),
    );
    expect(literalEnv.WATCH_NAMESPACE).toBe('*');
    const [port, healthPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        bundle,
        ...rest,
        ...(container.args ?? []),
        `--kubeconfig=${await kubeconfigAs(RELEASE_NAMESPACE)}`,
        `--metrics-port=${port}`,
        `--health-port=${healthPort}`,
        '--identity=release-bundle',
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        // The fieldRef variables as the kubelet sets them.
        env: {
          ...process.env,
          ...literalEnv,
          POD_NAMESPACE: RELEASE_NAMESPACE,
          POD_NAME: 'release-bundle',
          LOG_LEVEL: 'warn',
        },
      },
    );
    running.add(child);
    try {
      await vi.waitFor(
        async () => expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200),
        { timeout: 30_000, interval: 200 },
      );
      await createTargetStack(cp.kubeConfig, SHOP, 'api');
      await profileApi(cp.kubeConfig).create(
        new ProfileBuilder(SHOP, 'api', 'api').mode('Recommend').build(),
      );
      await vi.waitFor(
        async () => {
          const p = await profileApi(cp.kubeConfig).get(SHOP, 'api');
          expect(p.status?.observedGeneration).toBe(1);
        },
        { timeout: 30_000, interval: 200 },
      );
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      running.delete(child);
    }
  });
});

describe('the Helm chart', () => {
  beforeAll(async () => {
    // One operator per cluster: the bundle's leaves before the chart's arrives, its CRD stays
    // (and the chart leaves the CRD to it, crds.install=false), as when CRDs are managed apart.
    const withoutCrd = (await releaseObjects()).filter((o) => o.kind !== 'CustomResourceDefinition');
    const file = join(work, 'bundle-without-crd.yaml');
    await writeFile(file, withoutCrd.map((o) => stringify(o)).join('---\n'));
    await cp.kubectl(['delete', '-f', file, '--wait=false']);
  });

  it('helm install with a list of namespaces: the same operator, Pods Ready on the node', async () => {
    const values = join(work, 'helm-values.yaml');
    await writeFile(
      values,
      stringify({ crds: { install: false }, watchNamespaces: [SHOP], secretNames: ['redis-auth'] }),
    );
    const { stdout } = await run(
      helm,
      [
        'install',
        'perfpilot',
        join(work, 'release', CHART_NAME),
        `--kubeconfig=${cp.kubeconfigPath}`,
        '--namespace',
        HELM_NAMESPACE,
        '--create-namespace',
        '-f',
        values,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    expect(stdout).toContain('STATUS: deployed');
    await podsReadyOnNode(HELM_NAMESPACE, 2);
  });

  it('grants every profile form in the listed namespace only, the named Secret there, the Lease in its own', async () => {
    expect(await checkForms(HELM_NAMESPACE, SHOP, true)).toEqual([]);
    expect(await checkForms(HELM_NAMESPACE, PAYMENTS, false)).toEqual([]);
    expect(
      await allowed(HELM_NAMESPACE, {
        verb: 'get',
        resource: 'secrets',
        name: 'redis-auth',
        namespace: SHOP,
      }),
    ).toBe(true);
    expect(
      await allowed(HELM_NAMESPACE, { verb: 'get', resource: 'secrets', name: 'other', namespace: SHOP }),
    ).toBe(false);
    expect(
      await allowed(HELM_NAMESPACE, {
        verb: 'get',
        resource: 'secrets',
        name: 'redis-auth',
        namespace: PAYMENTS,
      }),
    ).toBe(false);
    const lease = { verb: 'update', group: 'coordination.k8s.io', resource: 'leases' };
    expect(await allowed(HELM_NAMESPACE, { ...lease, namespace: HELM_NAMESPACE })).toBe(true);
    expect(await allowed(HELM_NAMESPACE, { ...lease, namespace: SHOP })).toBe(false);
  });

  it('the chart’s Deployment tells the operator which namespaces to watch', async () => {
    const { stdout } = await cp.kubectl([
      'get',
      'deployment',
      OPERATOR,
      '-n',
      HELM_NAMESPACE,
      '-o',
      'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="WATCH_NAMESPACE")].value}',
    ]);
    expect(stdout).toBe(SHOP);
  });
});
