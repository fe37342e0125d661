import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { OperatorMetric } from '../api/v1alpha1/constants.ts';
import { createOperatorMetrics } from '../telemetry/metrics.ts';
import { type RunningHttpServer, startHttpServer } from './http-server.ts';

describe('startHttpServer', () => {
  let server: RunningHttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers /healthz, /readyz (503 until ready) and /metrics on a free port', async () => {
    const metrics = createOperatorMetrics(new Registry());
    metrics.reconcileTotal.inc({ result: 'success' });
    let ready = false;
    server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      isReady: () => ready,
    });
    expect(server.port).toBeGreaterThan(0);
    const get = (path: string) => fetch(`http://127.0.0.1:${server?.port}${path}`);

    expect((await get('/healthz')).status).toBe(200);
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain('not ready');
    ready = true;
    expect((await get('/readyz')).status).toBe(200);

    const scrape = await get('/metrics');
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
    expect((await get('/nope')).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('reports unhealthy when isHealthy says so', async () => {
    server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      registry: new Registry(),
      isReady: () => true,
      isHealthy: () => false,
    });
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(503);
  });

  it('fails to start on a port in use, and close() frees the port', async () => {
    server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      registry: new Registry(),
      isReady: () => true,
    });
    const port = server.port;
    await expect(
      startHttpServer({ port, host: '127.0.0.1', registry: new Registry(), isReady: () => true }),
    ).rejects.toThrow(/EADDRINUSE/);
    await server.close();
    server = await startHttpServer({
      port,
      host: '127.0.0.1',
      registry: new Registry(),
      isReady: () => true,
    });
    expect(server.port).toBe(port);
  });
});
