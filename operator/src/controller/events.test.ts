/**
 * Events on a real kube-apiserver: stamped by the operator's Clock (so a manual clock decides
 * their time, as it does the runtime's), best effort (a refused Event is logged, never thrown), and
 * with notes within the API server's 1 KiB, counted in bytes.
 */
import { Writable } from 'node:stream';
import { fc, test } from '@fast-check/vitest';
import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../test/cluster/control-plane.ts';
import { createNamespace } from '../../../test/cluster/kube.ts';
import type { PerformanceProfile } from '../api/v1alpha1/index.ts';
import { ManualClock } from '../runtime/clock.ts';
import { createLogger } from '../telemetry/logger.ts';
import { createEventRecorder, eventNote, MAX_NOTE_BYTES, REPORTING_CONTROLLER } from './events.ts';

describe('createEventRecorder', () => {
  let cp: ControlPlane;
  const namespace = 'events';
  const profile = (ns: string) =>
    ({
      apiVersion: 'perfpilot.dev/v1alpha1',
      kind: 'PerformanceProfile',
      metadata: { name: 'risk-api', namespace: ns, uid: '0b7f0c2e-7a4e-4d0c-9d55-1c1b5f1e0a01' },
    }) as unknown as PerformanceProfile;

  beforeAll(async () => {
    cp = await startControlPlane();
    await createNamespace(cp.kubeConfig, namespace);
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('stamps each Event with the clock it was given, and cuts the note at 1 KiB', async () => {
    const clock = new ManualClock(Date.parse('2026-03-04T05:06:07.890Z'));
    const recorder = createEventRecorder(
      cp.kubeConfig,
      'operator-0',
      createLogger({ level: 'silent' }),
      clock,
    );
    await recorder.record(profile(namespace), {
      type: 'Normal',
      reason: 'TookOver',
      action: 'Reconcile',
      note: 'x'.repeat(2000),
    });
    clock.advance(90_000);
    await recorder.record(profile(namespace), {
      type: 'Warning',
      reason: 'TargetNotFound',
      action: 'Reconcile',
      note: 'gone',
    });
    const list = await cp.kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
    const byReason = new Map(list.items.map((e) => [e.reason, e]));
    expect(new Date(String(byReason.get('TookOver')?.eventTime)).toISOString()).toBe(
      '2026-03-04T05:06:07.890Z',
    );
    expect(new Date(String(byReason.get('TargetNotFound')?.eventTime)).toISOString()).toBe(
      '2026-03-04T05:07:37.890Z',
    );
    expect(byReason.get('TookOver')?.note).toBe(`${'x'.repeat(1021)}…`);
    expect(byReason.get('TargetNotFound')).toMatchObject({
      type: 'Warning',
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: 'operator-0',
      regarding: { kind: 'PerformanceProfile', name: 'risk-api', namespace },
    });
  });

  it('records a note of fewer than 1,024 characters but more than 1,024 bytes, cut between clauses', async () => {
    const recorder = createEventRecorder(cp.kubeConfig, 'operator-0', createLogger({ level: 'silent' }));
    // 27 nodes, each with an arrow of 3 bytes: 997 characters, 1,051 bytes. Cut by characters,
    // the API server refuses it and the Event is lost.
    const nodes = Array.from(
      { length: 27 },
      (_, i) => `redis-${String(i).padStart(2, '0')}:6379 512 → 600 MiB refused`,
    );
    const note = nodes.join('; ');
    expect([note.length, Buffer.byteLength(note)]).toEqual([997, 1051]);
    await recorder.record(profile(namespace), {
      type: 'Warning',
      reason: 'RedisNotConverged',
      action: 'Tune',
      note,
    });
    const list = await cp.kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
    const recorded = list.items.find((e) => e.reason === 'RedisNotConverged')?.note;
    expect(recorded).toBe(`${nodes.slice(0, 26).join('; ')}; +1 more`);
  });

  it('logs an Event the API server refuses and does not throw', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const recorder = createEventRecorder(
      cp.kubeConfig,
      'operator-0',
      createLogger({ level: 'warn', destination }),
    );
    await expect(
      recorder.record(profile('no-such-namespace'), {
        type: 'Normal',
        reason: 'Tuned',
        action: 'Apply',
        note: 'pool 5 → 7',
      }),
    ).resolves.toBeUndefined();
    expect(lines.join('')).toMatch(/"reason":"Tuned".*"msg":"event not recorded"/);
  });
});

describe('eventNote', () => {
  test.prop(
    [
      fc.oneof(
        fc.string({ maxLength: 3000, size: 'max' }),
        fc.string({ unit: 'grapheme', maxLength: 1500, size: 'max' }),
      ),
    ],
    {
      numRuns: 300,
    },
  )(`keeps every note within ${MAX_NOTE_BYTES} bytes, and one that fits as it is`, (note) => {
    const bounded = eventNote(note);
    expect(Buffer.byteLength(bounded)).toBeLessThanOrEqual(MAX_NOTE_BYTES);
    if (Buffer.byteLength(note) <= MAX_NOTE_BYTES) expect(bounded).toBe(note);
  });
});
