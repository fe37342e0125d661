import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { OperatorMetric } from '../api/v1alpha1/constants.ts';
import { createLogger } from './logger.ts';
import { createOperatorMetrics } from './metrics.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('writes JSON lines with level names, ISO time and the bindings of a child', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ destination });
    logger.child({ profile: 'shop/risk-api' }).info({ knob: 'poolSize' }, 'applied');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      name: 'perfpilot',
      profile: 'shop/risk-api',
      msg: 'applied',
    });
    expect(String(lines[0]?.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('never prints password, token or secret fields, at any of the first levels', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ destination });
    logger.info(
      {
        password: 'p1',
        token: 't1',
        spec: { metrics: { redis: { password: 'p2', secret: 's2' } }, token: 't2' },
      },
      'reconciling',
    );
    const text = JSON.stringify(lines);
    for (const value of ['p1', 't1', 'p2', 's2', 't2']) expect(text).not.toContain(`"${value}"`);
    expect(text).toContain('[redacted]');
  });

  it('honours the level', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ destination, level: 'warn' });
    logger.info('hidden');
    logger.warn('shown');
    expect(lines.map((line) => line.msg)).toEqual(['shown']);
  });
});

describe('createOperatorMetrics', () => {
  it('registers the contract names and the default process metrics', async () => {
    const metrics = createOperatorMetrics(new Registry());
    metrics.reconcileTotal.inc({ result: 'success' });
    metrics.knobValue.set({ namespace: 'shop', profile: 'risk', knob: 'poolSize', kind: 'current' }, 20);
    metrics.decisionsTotal.inc({ namespace: 'shop', profile: 'risk', knob: 'poolSize', outcome: 'Applied' });
    metrics.leader.set(1);
    metrics.watchRestarts.inc({ resource: 'performanceprofiles.perfpilot.dev' });
    metrics.relists.inc({ resource: 'performanceprofiles.perfpilot.dev' });
    const text = await metrics.registry.metrics();
    expect(text).toContain(`${OperatorMetric.reconcileTotal}{result="success"} 1`);
    expect(text).toContain(
      `${OperatorMetric.knobValue}{namespace="shop",profile="risk",knob="poolSize",kind="current"} 20`,
    );
    expect(text).toContain(
      `${OperatorMetric.decisionsTotal}{namespace="shop",profile="risk",knob="poolSize",outcome="Applied"} 1`,
    );
    expect(text).toContain(`${OperatorMetric.leader} 1`);
    for (const name of [
      'perfpilot_reconcile_errors_total',
      'perfpilot_reconcile_duration_seconds',
      'perfpilot_workqueue_depth',
      'perfpilot_workqueue_adds_total',
      'perfpilot_workqueue_queue_duration_seconds',
      'perfpilot_workqueue_retries_total',
      'perfpilot_watch_restarts_total',
      'perfpilot_relists_total',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('uses a fresh registry by default, so two operators in one process do not collide', () => {
    expect(createOperatorMetrics().registry).not.toBe(createOperatorMetrics().registry);
  });
});
