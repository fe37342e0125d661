/**
 * The Events the report step records beside status: trouble from the first status on, and for
 * metrics that stay unknown, one Event each time their causes change, saying all of them.
 */
import { describe, expect, it } from 'vitest';
import type { PerformanceProfile, PerformanceProfileStatus } from '../api/v1alpha1/index.ts';
import { setCondition } from './conditions.ts';
import type { ProfileEvent } from './events.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import { recordTransitions } from './report.ts';

const now = new Date('2026-12-06T15:00:00Z');
const profile = {
  apiVersion: 'perfpilot.dev/v1alpha1',
  kind: 'PerformanceProfile',
  metadata: { namespace: 'shop', name: 'main', generation: 1 },
} as PerformanceProfile;

function statusWith(status: 'True' | 'False', message: string): PerformanceProfileStatus {
  const reason = status === 'True' ? 'MetricsFresh' : 'MetricsUnavailable';
  return { conditions: setCondition([], { type: 'MetricsAvailable', status, reason, message }, 1, now) };
}

async function recorded(
  before: PerformanceProfileStatus | undefined,
  after: PerformanceProfileStatus,
  notes = {},
): Promise<ProfileEvent[]> {
  const events: ProfileEvent[] = [];
  const ctx = { events: { record: async (_p, e) => void events.push(e) } } as Pick<
    ReconcileContext,
    'events'
  >;
  await recordTransitions(ctx as ReconcileContext, profile, before, after, notes);
  return events;
}

const down = 'Prometheus at http://prom:9090 unreachable (ENOTFOUND): 10 signals unknown';
const full = `Prometheus at http://prom:9090 unreachable (ENOTFOUND): requestsPerSecond, p95LatencyMs, …`;

describe('recordTransitions', () => {
  it.each<[string, PerformanceProfileStatus | undefined, PerformanceProfileStatus, Partial<ProfileEvent>[]]>([
    [
      'metrics unknown on a new profile: a Warning saying every signal',
      undefined,
      statusWith('False', down),
      [{ type: 'Warning', reason: 'MetricsUnavailable', note: `MetricsAvailable=False: ${full}` }],
    ],
    ['the same causes again: no Event', statusWith('False', down), statusWith('False', down), []],
    [
      'other causes while still unknown: a Warning',
      statusWith('False', 'value NaN: p95LatencyMs'),
      statusWith('False', down),
      [{ type: 'Warning', reason: 'MetricsUnavailable', note: `MetricsAvailable=False: ${full}` }],
    ],
    [
      'measured again: a Normal Event',
      statusWith('False', down),
      statusWith('True', 'every signal measured from Prometheus at http://prom:9090'),
      [
        {
          type: 'Normal',
          reason: 'MetricsFresh',
          note: 'MetricsAvailable=True: every signal measured from Prometheus at http://prom:9090',
        },
      ],
    ],
    ['measured on a new profile: no Event', undefined, statusWith('True', 'every signal measured'), []],
  ])('%s', async (_name, before, after, expected) => {
    const notes = { MetricsAvailable: after.conditions?.[0]?.status === 'False' ? full : undefined };
    const events = await recorded(before, after, notes);
    expect(events).toEqual(expected.map((e) => ({ action: 'Reconcile', ...e })));
  });
});
