/**
 * `perfpilot init` against a real API server: a hand-written Deployment whose pool lives in a
 * HikariCP env var, with an HPA and a Redis Service beside it, is drafted into a profile that
 * the API server accepts as written (kubectl create, strict field validation, nothing pruned)
 * and that names the env var and its container; a pool in a ConfigMap with the operator's keys
 * becomes the profile's tuning ConfigMap.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, type V1Container } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { createNamespace } from '../cluster/kube.ts';
import { installCrd, profileApi } from './fixtures.ts';

const run = promisify(execFile);
const NS = 'payments';
let cp: ControlPlane;
let dir: string;

async function createDeployment(name: string, container: V1Container): Promise<void> {
  const labels = { app: name };
  await cp.kubeConfig.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name, labels },
      spec: {
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [container] } },
      },
    },
  });
}

async function createHpa(name: string, target: string): Promise<void> {
  await cp.kubeConfig.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
    namespace: NS,
    body: {
      metadata: { name },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
        minReplicas: 3,
        maxReplicas: 12,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
          },
        ],
      },
    },
  });
}

/** init runs `perfpilot init` through its bin and returns the draft's text. */
async function init(deployment: string, ...args: string[]): Promise<string> {
  const out = join(dir, `${deployment}.yaml`);
  await run(
    process.execPath,
    ['bin/perfpilot.js', 'init', '--deployment', `${NS}/${deployment}`, '--out', out, ...args],
    {
      env: { ...process.env, KUBECONFIG: cp.kubeconfigPath },
    },
  );
  return readFileSync(out, 'utf8');
}

/** createAsWritten creates the draft with kubectl (strict field validation) and returns the spec the server kept. */
async function createAsWritten(file: string, name: string) {
  await cp.kubectl(['create', '--validate=strict', '-f', file]);
  return (await profileApi(cp.kubeConfig).get(NS, name)).spec;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'perfpilot-init-'));
  cp = await startControlPlane();
  await installCrd(cp);
  await createNamespace(cp.kubeConfig, NS);
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name: 'cache' },
      spec: { selector: { app: 'cache' }, ports: [{ name: 'redis', port: 6379 }] },
    },
  });
  await core.createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] },
    },
  });
});

afterAll(async () => {
  await cp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('perfpilot init', () => {
  it('drafts a profile the API server accepts as written, with the HikariCP env var that holds the pool as its pool', async () => {
    await createDeployment('ledger', {
      name: 'app',
      image: 'registry.example/ledger:1.4.2',
      env: [
        { name: 'SPRING_DATASOURCE_URL', value: 'jdbc:postgresql://db:5432/ledger' },
        { name: 'SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE', value: '15' },
        {
          name: 'SPRING_REDIS_PASSWORD',
          valueFrom: { secretKeyRef: { name: 'cache-auth', key: 'redis-password' } },
        },
      ],
    });
    await createHpa('ledger-autoscaler', 'ledger');
    const text = await init('ledger', '--prometheus', 'http://prometheus.monitoring.svc:9090');
    console.log(
      `$ perfpilot init --deployment ${NS}/ledger --prometheus http://prometheus.monitoring.svc:9090 --out ledger.yaml; cat ledger.yaml\n${text}`,
    );
    expect(text).toContain(
      '# found: container app sets SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE with a value: the operator tunes it there,',
    );
    expect(text).toContain(
      '# found: HPA ledger-autoscaler scales this Deployment (minReplicas 3, maxReplicas 12)',
    );
    expect(text).toContain('# found: Service cache (port 6379) in payments');
    expect(text).toContain(
      '# found: env var SPRING_REDIS_PASSWORD of container app reads Secret cache-auth key redis-password',
    );
    const written = parse(text);
    expect(written.spec).toEqual({
      mode: 'Observe',
      targetRef: {
        name: 'ledger',
        hpaName: 'ledger-autoscaler',
        pool: { env: { container: 'app', sizeVar: 'SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE' } },
      },
      metrics: {
        prometheus: { url: 'http://prometheus.monitoring.svc:9090' },
        redis: {
          endpoints: ['cache.payments.svc:6379'],
          passwordSecretRef: { name: 'cache-auth', key: 'redis-password' },
        },
      },
    });
    const kept = await createAsWritten(join(dir, 'ledger.yaml'), 'ledger');
    // The server keeps every field as written (defaults added, nothing pruned or changed).
    expect(kept).toMatchObject(written.spec);
  });

  it('takes a ConfigMap holding DB_POOL_SIZE and DB_MAX_OVERFLOW by envFrom as the tuning ConfigMap', async () => {
    await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedConfigMap({
      namespace: NS,
      body: {
        metadata: { name: 'quotes-settings' },
        data: { DB_POOL_SIZE: '10', DB_MAX_OVERFLOW: '5', LOG_LEVEL: 'info' },
      },
    });
    await createDeployment('quotes', {
      name: 'api',
      image: 'registry.example/quotes:2.0.0',
      envFrom: [{ configMapRef: { name: 'quotes-settings' } }],
    });
    const text = await init('quotes');
    expect(text).toContain(
      '# found: ConfigMap quotes-settings holds DB_POOL_SIZE and DB_MAX_OVERFLOW, which the pods read',
    );
    expect(text).toContain('# no HPA scales this Deployment');
    expect(text).toContain('# guessed: the Prometheus Operator’s Service');
    const written = parse(text);
    expect(written.spec.targetRef).toEqual({ name: 'quotes', configMapName: 'quotes-settings' });
    expect(await createAsWritten(join(dir, 'quotes.yaml'), 'quotes')).toMatchObject(written.spec);
  });
});
