/**
 * Events on a real kube-apiserver: stamped by the operator's Clock (so a manual clock decides
 * their time, as it does the runtime's), and best effort (a refused Event is logged, never thrown).
 */
import { Writable } from 'node:stream';
import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../test/cluster/control-plane.ts';
import { createNamespace } from '../../../test/cluster/kube.ts';
import type { PerformanceProfile } from '../api/v1alpha1/index.ts';
import { ManualClock } from '../runtime/clock.ts';
import { createLogger } from '../telemetry/logger.ts';
import { createEventRecorder, REPORTING_CONTROLLER } from './events.ts';

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

  it('stamps each Event with the clock it was given, and cuts the note at 1 kB', async () => {
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
    expect(byReason.get('TookOver')?.note).toHaveLength(1024);
    expect(byReason.get('TargetNotFound')).toMatchObject({
      type: 'Warning',
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: 'operator-0',
      regarding: { kind: 'PerformanceProfile', name: 'risk-api', namespace },
    });
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
