/**
 * The harness's Prometheus is Debian's real binary: it scrapes the test exporter, so the series a
 * test sets come back through its HTTP API; it stops leaving no process and no directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestExporter, type TestExporter } from '../cluster/exporter.ts';
import { isAlive } from '../cluster/processes.ts';
import { checkRules, type PrometheusServer, startPrometheus } from '../cluster/prometheus.ts';

describe('prometheus harness', () => {
  let exporter: TestExporter;
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    exporter = await startTestExporter();
    prometheus = await startPrometheus({
      scrapeTargets: [{ address: exporter.address, job: 'risk-api', labels: { namespace: 'perfpilot' } }],
      scrapeIntervalSeconds: 1,
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.stop();
  });

  it('scrapes a gauge the test sets, with the target labels, and follows its changes', async () => {
    const gauge = exporter.gauge('database_connections_active', ['pod']);
    gauge.set({ pod: 'risk-api-0' }, 7);
    const selector = 'database_connections_active{namespace="perfpilot",job="risk-api",pod="risk-api-0"}';
    expect(await prometheus.waitForSeries(selector)).toBe(7);
    gauge.set({ pod: 'risk-api-0' }, 12);
    expect(await prometheus.waitForSeries(`${selector} == 12`)).toBe(12);
  });

  it('computes a rate from a counter the test increments', async () => {
    const counter = exporter.counter('cache_hits_total');
    counter.inc(1);
    await prometheus.waitForSeries('cache_hits_total{job="risk-api"}');
    const timer = setInterval(() => counter.inc(50), 100);
    try {
      const rate = await prometheus.waitForSeries('rate(cache_hits_total{job="risk-api"}[5s]) > 100');
      expect(rate).toBeGreaterThan(100);
    } finally {
      clearInterval(timer);
    }
  });

  it('rejects a query Prometheus cannot parse, with its error', async () => {
    await expect(prometheus.query('sum(rate(cache_hits_total[5m])')).rejects.toThrow(/parse error/);
  });

  it('checks rule files with promtool: a good rule passes, a typo fails naming it', async () => {
    const good = 'groups:\n- name: g\n  rules:\n  - record: r:x\n    expr: sum(up)\n';
    expect(await checkRules(good)).toMatch(/SUCCESS: 1 rules found/);
    const bad = 'groups:\n- name: g\n  rules:\n  - record: r:x\n    expr: sum(up\n';
    await expect(checkRules(bad)).rejects.toThrow(/FAILED|parse error/);
  });
});

describe('prometheus stop', () => {
  it('leaves no process and no directory behind', async () => {
    const prometheus = await startPrometheus({ scrapeTargets: [] });
    const health = await fetch(`${prometheus.url}/-/healthy`);
    expect(health.ok).toBe(true);
    const pidFile = `${prometheus.dataDir}/../pids`;
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    await prometheus.stop();
    expect(pids.some((pid) => isAlive(pid))).toBe(false);
    expect(existsSync(prometheus.dataDir)).toBe(false);
    await expect(fetch(`${prometheus.url}/-/healthy`)).rejects.toThrow();
  });
});
