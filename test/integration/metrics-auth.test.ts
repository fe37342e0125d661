/**
 * The operator's /metrics as a scraper meets it: `perfpilot operator` run with only the generated
 * ServiceAccount's permissions (its Role and the review ClusterRole of manifests/operator.yaml)
 * against a real API server, scraped with ServiceAccount tokens from the TokenRequest API. No
 * token is refused (401), a token without `get /metrics` is forbidden (403), a token of a
 * ServiceAccount bound to a metrics-reader role reads the page (200).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ApiException, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { METRICS_PATH } from '../../operator/src/endpoints.ts';
import { selfSignedCert } from '../../operator/src/runtime/serving-cert.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { freePort, httpsGet } from '../cluster/processes.ts';
import { installCrd } from './fixtures.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/perfpilot.js');
const ns = 'perfpilot';
const scrapers = 'monitoring';
let cp: ControlPlane;
let dir: string;
/** operatorKubeconfig holds the operator ServiceAccount's token: the operator has only its RBAC. */
let operatorKubeconfig: string;
const running = new Set<ChildProcess>();

/** tokenOf asks the TokenRequest API for a token of a ServiceAccount. */
async function tokenOf(namespace: string, name: string): Promise<string> {
  const request = await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`no token for ${namespace}/${name}`);
  return token;
}

interface Operator {
  child: ChildProcess;
  metricsPort: number;
  log: () => string;
}

/** startOperator runs `perfpilot operator` as the operator's ServiceAccount and waits for /readyz. */
async function startOperator(flags: readonly string[]): Promise<Operator> {
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      bin,
      'operator',
      `--kubeconfig=${operatorKubeconfig}`,
      `--metrics-port=${metricsPort}`,
      `--health-port=${healthPort}`,
      '--no-leader-elect',
      '--identity=metrics-auth-test',
      ...flags,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WATCH_NAMESPACE: ns, POD_NAMESPACE: ns, LOG_LEVEL: 'info' },
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  await vi.waitFor(
    async () => {
      expect(child.exitCode, output).toBeNull();
      const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
      expect(res.status).toBe(200);
    },
    { timeout: 30_000, interval: 200 },
  );
  return { child, metricsPort, log: () => output };
}

async function stop(operator: Operator): Promise<void> {
  if (operator.child.exitCode !== null) return;
  operator.child.kill('SIGTERM');
  await once(operator.child, 'exit');
}

/** scrape GETs /metrics over HTTPS as Prometheus with `insecureSkipVerify` does, with an optional token. */
function scrape(
  port: number,
  token?: string,
  tls: { ca?: string } = {},
): Promise<{ status: number; body: string }> {
  return httpsGet(port, METRICS_PATH, { ...tls, headers: token ? { Authorization: `Bearer ${token}` } : {} });
}

/** servedCertificate is the certificate the server presents, without verifying it. */
async function servedCertificate(port: number): Promise<X509Certificate> {
  const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  const cert = socket.getPeerX509Certificate();
  socket.destroy();
  if (!cert) throw new Error('no certificate served');
  return cert;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'perfpilot-metrics-auth-'));
  cp = await startControlPlane();
  await installCrd(cp);
  // The generated namespace and operator objects: ServiceAccount, Role, the review ClusterRole and their bindings.
  await cp.kubectl(['apply', '--server-side', '-f', join(root, 'manifests/namespace.yaml')]);
  await cp.kubectl(['apply', '--server-side', '-f', join(root, 'manifests/operator.yaml')]);
  const operator = new KubeConfig();
  const cluster = cp.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('no cluster in kubeconfig');
  operator.loadFromClusterAndUser(cluster, {
    name: 'perfpilot-operator',
    token: await tokenOf(ns, 'perfpilot-operator'),
  });
  operatorKubeconfig = join(dir, 'operator.kubeconfig');
  writeFileSync(operatorKubeconfig, operator.exportConfig(), { mode: 0o600 });

  // Two scrapers: Prometheus, bound to a metrics reader role, and a stranger, bound to nothing.
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: scrapers } } });
  for (const name of ['prometheus', 'stranger']) {
    await core.createNamespacedServiceAccount({ namespace: scrapers, body: { metadata: { name } } });
  }
  const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  // The role scrapers need; created here unless the generated manifests already carry it.
  await rbac
    .createClusterRole({
      body: {
        metadata: { name: 'perfpilot-metrics-reader' },
        rules: [{ nonResourceURLs: [METRICS_PATH], verbs: ['get'] }],
      },
    })
    .catch((err: unknown) => {
      if (!(err instanceof ApiException && err.code === 409)) throw err;
    });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: 'prometheus-reads-perfpilot-metrics' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'perfpilot-metrics-reader',
      },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: scrapers }],
    },
  });
});

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await cp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('perfpilot operator --metrics-port (secure by default)', () => {
  let operator: Operator;
  beforeAll(async () => {
    operator = await startOperator([]);
  });
  afterAll(async () => {
    if (operator) await stop(operator);
  });

  it('refuses a scrape without a token: 401', async () => {
    expect(await scrape(operator.metricsPort)).toEqual({ status: 401, body: 'Unauthorized\n' });
  });

  it('refuses a token the API server does not know: 401', async () => {
    const forged = `${(await tokenOf(scrapers, 'stranger')).slice(0, -4)}AAAA`;
    expect((await scrape(operator.metricsPort, forged)).status).toBe(401);
  });

  it('forbids a ServiceAccount without the metrics reader role: 403', async () => {
    expect(await scrape(operator.metricsPort, await tokenOf(scrapers, 'stranger'))).toEqual({
      status: 403,
      body: 'Authorization denied for user system:serviceaccount:monitoring:stranger\n',
    });
  });

  it('serves the page to a ServiceAccount bound to the metrics reader role: 200', async () => {
    const page = await scrape(operator.metricsPort, await tokenOf(scrapers, 'prometheus'));
    expect(page.status).toBe(200);
    expect(page.body).toContain('# HELP perfpilot_reconcile_total ');
    expect(page.body).toContain('# HELP perfpilot_workqueue_depth ');
  });

  it('speaks no plain HTTP on the metrics port, and serves a self-signed certificate it logged', async () => {
    await expect(fetch(`http://127.0.0.1:${operator.metricsPort}${METRICS_PATH}`)).rejects.toThrow();
    const cert = await servedCertificate(operator.metricsPort);
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(operator.log()).toContain('with a self-signed certificate generated at start');
  });
});

describe('perfpilot operator --metrics-cert-dir', () => {
  it('serves the mounted certificate, and the renewed one once the files change', async () => {
    const certDir = join(dir, 'certs');
    mkdirSync(certDir);
    const first = await selfSignedCert(['localhost', '127.0.0.1'], new Date());
    writeFileSync(join(certDir, 'tls.crt'), first.cert);
    writeFileSync(join(certDir, 'tls.key'), first.key);
    const operator = await startOperator([`--metrics-cert-dir=${certDir}`]);
    try {
      // Verified against the mounted certificate, as a ServiceMonitor with the Secret's ca.crt does.
      const page = await scrape(operator.metricsPort, await tokenOf(scrapers, 'prometheus'), {
        ca: first.cert,
      });
      expect(page.status).toBe(200);
      expect(operator.log()).toContain(`"certificate":"${certDir}"`);

      const renewed = await selfSignedCert(['localhost', '127.0.0.1'], new Date());
      writeFileSync(join(certDir, 'tls.key'), renewed.key);
      writeFileSync(join(certDir, 'tls.crt'), renewed.cert);
      const expected = new X509Certificate(renewed.cert).fingerprint256;
      await vi.waitFor(
        async () => expect((await servedCertificate(operator.metricsPort)).fingerprint256).toBe(expected),
        { timeout: 30_000, interval: 500 },
      );
      expect(
        (await scrape(operator.metricsPort, await tokenOf(scrapers, 'prometheus'), { ca: renewed.cert }))
          .status,
      ).toBe(200);
    } finally {
      await stop(operator);
    }
  }, 60_000);

  it('refuses to start when the directory lacks the certificate, naming the flag and the file', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const child = spawn(
      process.execPath,
      [
        bin,
        'operator',
        `--kubeconfig=${operatorKubeconfig}`,
        `--metrics-port=0`,
        `--health-port=0`,
        '--no-leader-elect',
        `--metrics-cert-dir=${empty}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WATCH_NAMESPACE: ns, POD_NAMESPACE: ns } },
    );
    let output = '';
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).not.toBe(0);
    expect(output).toContain(`--metrics-cert-dir ${empty}: cannot read tls.crt`);
  });
});

describe('perfpilot operator --insecure-metrics', () => {
  it('serves /metrics over plain HTTP to anyone, and says so in the log', async () => {
    const operator = await startOperator(['--insecure-metrics']);
    try {
      const res = await fetch(`http://127.0.0.1:${operator.metricsPort}${METRICS_PATH}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('# HELP perfpilot_reconcile_total ');
      expect(operator.log()).toContain('serving /metrics over plain HTTP without authentication');
    } finally {
      await stop(operator);
    }
  });
});
