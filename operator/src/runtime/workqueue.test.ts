import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createOperatorMetrics } from '../telemetry/metrics.ts';
import { ManualClock } from './clock.ts';
import { WorkQueue } from './workqueue.ts';

/** takeReady drains the keys that are ready now, without waiting. */
async function takeReady(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const key = await queue.get();
    if (key !== undefined) keys.push(key);
  }
  return keys;
}

describe('WorkQueue', () => {
  it('keeps one entry per key, in order of first add', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    for (const key of ['a', 'b', 'a', 'c', 'b', 'a']) queue.add(key);
    expect(queue.len()).toBe(3);
    expect(await takeReady(queue)).toEqual(['a', 'b', 'c']);
  });

  it('never hands a key being processed to a second worker; a re-add runs once after done()', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add('a');
    const first = await queue.get();
    expect(first).toBe('a');
    queue.add('a');
    queue.add('a');
    queue.add('b');
    // Only b is ready: a is held by the first worker.
    expect(await takeReady(queue)).toEqual(['b']);
    let second: string | undefined;
    void queue.get().then((key) => {
      second = key;
    });
    await Promise.resolve();
    expect(second).toBeUndefined();
    queue.done('a');
    await Promise.resolve();
    expect(second).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    const waiting = queue.get();
    queue.add('x');
    expect(await waiting).toBe('x');
  });

  it('addAfter delivers when due, and of two delays for one key the earlier wins', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter('a', 1000);
    queue.addAfter('a', 300);
    queue.addAfter('a', 2000);
    queue.addAfter('now', 0);
    expect(await takeReady(queue)).toEqual(['now']);
    clock.advance(299);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(await takeReady(queue)).toEqual(['a']);
    clock.advance(5000);
    expect(queue.len()).toBe(0);
  });

  it('addRateLimited backs a failing key off exponentially until forget()', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    const readyAfter: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      const start = clock.now();
      queue.addRateLimited('poison');
      while (queue.len() === 0) clock.advance(1);
      readyAfter.push(clock.now() - start);
      await queue.get();
      queue.done('poison');
    }
    expect(readyAfter).toEqual([5, 10, 20, 40, 80, 160]);
    expect(queue.numRequeues('poison')).toBe(6);
    queue.forget('poison');
    expect(queue.numRequeues('poison')).toBe(0);
    queue.addRateLimited('poison');
    clock.advance(5);
    expect(queue.len()).toBe(1);
  });

  it('caps a poison key at 1000 s while a healthy key still goes through in 5 ms', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    for (let attempt = 0; attempt < 25; attempt++) {
      const expectedMs = Math.min(5 * 2 ** attempt, 1_000_000);
      queue.addRateLimited('poison');
      clock.advance(expectedMs - 1);
      expect(queue.len()).toBe(0);
      clock.advance(1);
      expect(await queue.get()).toBe('poison');
      queue.done('poison');
    }
    queue.addRateLimited('poison');
    queue.addRateLimited('healthy');
    clock.advance(5);
    expect(await takeReady(queue)).toEqual(['healthy']);
  });

  it('holds a burst of failures to 10 per second after 100', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    for (let i = 0; i < 120; i++) queue.addRateLimited(`k${i}`);
    clock.advance(5);
    expect(queue.len()).toBe(100);
    clock.advance(1000);
    expect(queue.len()).toBe(110);
    clock.advance(1000);
    expect(queue.len()).toBe(120);
  });

  it('shutDown resolves waiting and later get() with undefined and ignores adds', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    const waiting = queue.get();
    queue.addAfter('later', 100);
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add('a');
    clock.advance(1000);
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);
    expect(queue.isShuttingDown()).toBe(true);
  });

  it('reports depth, adds, retries and queue latency', async () => {
    const clock = new ManualClock();
    const metrics = createOperatorMetrics(new Registry());
    const queue = new WorkQueue({ clock, metrics, name: 'profiles' });
    queue.add('a');
    queue.add('a');
    queue.add('b');
    const depth = async () => (await metrics.workqueueDepth.get()).values[0]?.value;
    expect(await depth()).toBe(2);
    clock.advance(250);
    await queue.get();
    expect(await depth()).toBe(1);
    queue.addRateLimited('c');
    const text = await metrics.registry.metrics();
    expect(text).toContain('perfpilot_workqueue_adds_total{name="profiles"} 2');
    expect(text).toContain('perfpilot_workqueue_retries_total{name="profiles"} 1');
    expect(text).toContain('perfpilot_workqueue_queue_duration_seconds_sum{name="profiles"} 0.25');
  });
});
