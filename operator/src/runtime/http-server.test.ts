import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { httpsGet } from '../../../test/cluster/processes.ts';
import { OperatorMetric } from '../api/v1alpha1/constants.ts';
import { createOperatorMetrics } from '../telemetry/metrics.ts';
import {
  type MetricsAuthorization,
  type RunningHttpServer,
  startHealthServer,
  startMetricsServer,
} from './http-server.ts';
import type { AuthVerdict } from './metrics-auth.ts';
import { type KeyPair, selfSignedCert } from './serving-cert.ts';

const servers: RunningHttpServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});
async function started(server: Promise<RunningHttpServer>): Promise<RunningHttpServer> {
  const s = await server;
  servers.push(s);
  return s;
}

describe('startHealthServer', () => {
  it('answers /healthz and /readyz (503 until ready) on a free port, and nothing else', async () => {
    let ready = false;
    const server = await started(startHealthServer({ port: 0, host: '127.0.0.1', isReady: () => ready }));
    expect(server.port).toBeGreaterThan(0);
    const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
    expect((await get('/healthz')).status).toBe(200);
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain('not ready');
    ready = true;
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`, { method: 'POST' })).status).toBe(405);
  });

  it('reports unhealthy when isHealthy says so', async () => {
    const server = await started(
      startHealthServer({ port: 0, host: '127.0.0.1', isReady: () => true, isHealthy: () => false }),
    );
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(503);
  });

  it('fails to start on a port in use, and close() frees the port', async () => {
    const server = await startHealthServer({ port: 0, host: '127.0.0.1', isReady: () => true });
    const port = server.port;
    await expect(startHealthServer({ port, host: '127.0.0.1', isReady: () => true })).rejects.toThrow(
      /EADDRINUSE/,
    );
    await server.close();
    const again = await started(startHealthServer({ port, host: '127.0.0.1', isReady: () => true }));
    expect(again.port).toBe(port);
  });
});

describe('startMetricsServer, insecure', () => {
  it('serves every operator metric over plain HTTP, and only /metrics', async () => {
    const metrics = createOperatorMetrics(new Registry());
    metrics.reconcileTotal.inc({ result: 'success' });
    const server = await started(
      startMetricsServer({ port: 0, host: '127.0.0.1', registry: metrics.registry }),
    );
    const scrape = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    const text = await scrape.text();
    for (const name of [
      OperatorMetric.reconcileTotal,
      OperatorMetric.leader,
      OperatorMetric.knobValue,
      OperatorMetric.decisionsTotal,
      'perfpilot_reconcile_duration_seconds',
      'perfpilot_workqueue_depth',
      'perfpilot_watch_restarts_total',
      'perfpilot_relists_total',
      'process_resident_memory_bytes',
    ]) {
      expect(text).toContain(`# HELP ${name} `);
    }
    expect(text).toContain(`${OperatorMetric.reconcileTotal}{result="success"} 1`);
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe('startMetricsServer, secure', () => {
  let keyPair: KeyPair;
  /** asked records what the server asked the authorization, to show verb and path reach it. */
  const asked: string[] = [];
  const authorization: MetricsAuthorization = {
    check: async (header, verb, path): Promise<AuthVerdict> => {
      asked.push(`${verb} ${path}`);
      if (header === 'Bearer reader') return { status: 200, user: 'reader' };
      if (header === 'Bearer stranger')
        return { status: 403, message: 'Authorization denied for user stranger' };
      if (header === 'Bearer broken')
        return { status: 500, message: 'Authentication failed', error: 'connection refused' };
      return { status: 401, message: 'Unauthorized' };
    },
  };

  async function secureServer(): Promise<RunningHttpServer> {
    keyPair ??= await selfSignedCert(['localhost', '127.0.0.1'], new Date());
    const registry = new Registry();
    createOperatorMetrics(registry);
    return await started(
      startMetricsServer({ port: 0, host: '127.0.0.1', registry, secure: { keyPair, authorization } }),
    );
  }

  it.each([
    ['no token', {}, 401, 'Unauthorized'],
    ['a token the API server rejects', { Authorization: 'Bearer nobody' }, 401, 'Unauthorized'],
    [
      'a token without the role',
      { Authorization: 'Bearer stranger' },
      403,
      'Authorization denied for user stranger',
    ],
    ['a review that fails', { Authorization: 'Bearer broken' }, 500, 'Authentication failed'],
    ['a token with the role', { Authorization: 'Bearer reader' }, 200, '# HELP perfpilot_reconcile_total'],
  ])('answers a scrape with %s: %i', async (_what, headers, status, body) => {
    const server = await secureServer();
    const res = await httpsGet(server.port, '/metrics', { ca: keyPair.cert, headers });
    expect(res.status).toBe(status);
    expect(res.body).toContain(body);
    expect(asked.at(-1)).toBe('get /metrics');
  });

  it('speaks only HTTPS with its certificate, and HTTP/1.1 to a client that offers h2', async () => {
    const server = await secureServer();
    await expect(fetch(`http://127.0.0.1:${server.port}/metrics`)).rejects.toThrow();
    const socket = connect({
      host: '127.0.0.1',
      port: server.port,
      ca: keyPair.cert,
      servername: 'localhost',
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    expect(socket.alpnProtocol).toBe('http/1.1');
    const served = socket.getPeerX509Certificate();
    socket.destroy();
    expect(served?.fingerprint256).toBe(new X509Certificate(keyPair.cert).fingerprint256);
  });
});
