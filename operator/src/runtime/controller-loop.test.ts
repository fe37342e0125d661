import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createOperatorMetrics } from '../telemetry/metrics.ts';
import { ManualClock } from './clock.ts';
import { type ErrorAction, runWorkers } from './controller-loop.ts';
import { WorkQueue } from './workqueue.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('runWorkers', () => {
  it('reconciles queued keys and requeues after requeueAfterMs', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    const seen: string[] = [];
    const workers = runWorkers({
      queue,
      reconcile: async (key) => {
        seen.push(key);
        return { requeueAfterMs: 30_000 };
      },
      errorPolicy: () => ({ kind: 'retry' }),
    });
    queue.add('ns/a');
    await vi.waitFor(() => expect(seen).toEqual(['ns/a']), { timeout: 2000 });
    clock.advance(29_999);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['ns/a']);
    clock.advance(1);
    await vi.waitFor(() => expect(seen).toEqual(['ns/a', 'ns/a']), { timeout: 2000 });
    await workers.stop();
  });

  it('times each reconcile on its clock for the duration histogram', async () => {
    const clock = new ManualClock();
    const metrics = createOperatorMetrics(new Registry());
    const queue = new WorkQueue({ clock });
    const workers = runWorkers({
      queue,
      reconcile: async () => {
        clock.advance(1500);
        return {};
      },
      errorPolicy: () => ({ kind: 'drop' }),
      metrics,
      clock,
    });
    queue.add('ns/a');
    await vi.waitFor(async () =>
      expect(
        (await metrics.reconcileTotal.get()).values.find((v) => v.labels.result === 'success')?.value,
      ).toBe(1),
    );
    const sum = (await metrics.reconcileDuration.get()).values.find(
      (v) => v.metricName === 'perfpilot_reconcile_duration_seconds_sum',
    );
    expect(sum?.value).toBe(1.5);
    await workers.stop();
  });

  it.each<{ action: ErrorAction; requeuedAfterMs: number | undefined; requeues: number }>([
    { action: { kind: 'retry' }, requeuedAfterMs: 5, requeues: 1 },
    { action: { kind: 'requeueAfter', delayMs: 700 }, requeuedAfterMs: 700, requeues: 0 },
    { action: { kind: 'drop' }, requeuedAfterMs: undefined, requeues: 0 },
  ])('applies the error policy: $action.kind', async ({ action, requeuedAfterMs, requeues }) => {
    const clock = new ManualClock();
    const metrics = createOperatorMetrics(new Registry());
    const queue = new WorkQueue({ clock, metrics });
    let calls = 0;
    const policyErrors: unknown[] = [];
    const workers = runWorkers({
      queue,
      metrics,
      reconcile: async () => {
        calls++;
        throw new Error('API server said no');
      },
      errorPolicy: (_key, err) => {
        policyErrors.push(err);
        return action;
      },
    });
    queue.add('ns/a');
    await vi.waitFor(() => expect(calls).toBe(1), { timeout: 2000 });
    await vi.waitFor(() => expect(policyErrors).toHaveLength(1), { timeout: 2000 });
    expect(queue.numRequeues('ns/a')).toBe(requeues);
    clock.advance(requeuedAfterMs ?? 1_000_000);
    if (requeuedAfterMs === undefined) {
      await new Promise((r) => setTimeout(r, 20));
      expect(calls).toBe(1);
    } else {
      await vi.waitFor(() => expect(calls).toBe(2), { timeout: 2000 });
    }
    await workers.stop();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/perfpilot_reconcile_total\{result="error"\} [12]/);
    expect(text).toContain(`perfpilot_reconcile_errors_total{action="${action.kind}"}`);
    expect(text).toContain('perfpilot_reconcile_duration_seconds_count{result="error"}');
  });

  it('forgets the failures of a key once it succeeds', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    let calls = 0;
    const workers = runWorkers({
      queue,
      reconcile: async () => {
        calls++;
        if (calls < 3) throw new Error('transient');
        return {};
      },
      errorPolicy: () => ({ kind: 'retry' }),
    });
    queue.add('k');
    await vi.waitFor(() => expect(calls).toBe(1), { timeout: 2000 });
    clock.advance(5);
    await vi.waitFor(() => expect(calls).toBe(2), { timeout: 2000 });
    await vi.waitFor(() => expect(queue.numRequeues('k')).toBe(2), { timeout: 2000 });
    clock.advance(10);
    await vi.waitFor(() => expect(calls).toBe(3), { timeout: 2000 });
    await vi.waitFor(() => expect(queue.numRequeues('k')).toBe(0), { timeout: 2000 });
    await workers.stop();
  });

  it('never reconciles one key concurrently, even with many workers', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    const running = new Map<string, number>();
    let maxParallelPerKey = 0;
    let total = 0;
    const workers = runWorkers({
      queue,
      concurrency: 4,
      reconcile: async (key) => {
        const now = (running.get(key) ?? 0) + 1;
        running.set(key, now);
        maxParallelPerKey = Math.max(maxParallelPerKey, now);
        await new Promise((r) => setTimeout(r, 5));
        // Adding the key while it runs must lead to exactly one more run, later.
        if (total < 20) queue.add(key);
        running.set(key, (running.get(key) ?? 1) - 1);
        total++;
        return {};
      },
      errorPolicy: () => ({ kind: 'drop' }),
    });
    queue.add('a');
    queue.add('b');
    await vi.waitFor(() => expect(total).toBeGreaterThanOrEqual(21), { timeout: 5000 });
    await workers.stop();
    expect(maxParallelPerKey).toBe(1);
  });

  it('stop() takes no new work and waits for the reconcile in flight', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    const release = deferred();
    const finished: string[] = [];
    const started: string[] = [];
    const workers = runWorkers({
      queue,
      concurrency: 1,
      reconcile: async (key) => {
        started.push(key);
        await release.promise;
        finished.push(key);
        return {};
      },
      errorPolicy: () => ({ kind: 'drop' }),
    });
    queue.add('first');
    queue.add('second');
    await vi.waitFor(() => expect(started).toEqual(['first']), { timeout: 2000 });
    let stopped = false;
    const stopping = workers.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    release.resolve();
    await stopping;
    expect(finished).toEqual(['first']);
    expect(started).toEqual(['first']);
  });

  it('survives an error policy that throws, retrying with backoff', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    let calls = 0;
    const workers = runWorkers({
      queue,
      reconcile: async () => {
        calls++;
        throw new Error('boom');
      },
      errorPolicy: () => {
        throw new Error('policy bug');
      },
    });
    queue.add('k');
    await vi.waitFor(() => expect(queue.numRequeues('k')).toBe(1), { timeout: 2000 });
    clock.advance(5);
    await vi.waitFor(() => expect(calls).toBe(2), { timeout: 2000 });
    await workers.stop();
  });

  it('backs a poison key off without starving the others', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    let poisonAttempts = 0;
    const reconciled: string[] = [];
    const workers = runWorkers({
      queue,
      concurrency: 1,
      reconcile: async (key) => {
        if (key === 'poison') {
          poisonAttempts++;
          throw new Error('cannot parse this object');
        }
        reconciled.push(key);
        return {};
      },
      errorPolicy: () => ({ kind: 'retry' }),
    });
    queue.add('poison');
    // Ten simulated seconds, with a healthy key arriving every 100 ms.
    for (let step = 0; step < 100; step++) {
      queue.add(`healthy-${step}`);
      await vi.waitFor(() => expect(reconciled).toContain(`healthy-${step}`), { timeout: 2000, interval: 1 });
      clock.advance(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await workers.stop();
    expect(reconciled).toHaveLength(100);
    // 5 ms doubling: attempts at 0, 5, 15, 35, … ms; about 11 fit in 10 s, not one per step.
    expect(poisonAttempts).toBeGreaterThanOrEqual(9);
    expect(poisonAttempts).toBeLessThanOrEqual(12);
  });
});
