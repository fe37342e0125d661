import { describe, expect, it } from 'vitest';
import type { Condition } from '../api/v1alpha1/index.ts';
import { findCondition, setCondition } from './conditions.ts';

const t0 = new Date('2026-11-27T10:00:00Z');
const t1 = new Date('2026-11-27T10:05:00Z');
const ready: Condition = {
  type: 'Ready',
  status: 'True',
  reason: 'Reconciled',
  message: 'ok',
  observedGeneration: 1,
  lastTransitionTime: t0.toISOString(),
};

describe('setCondition', () => {
  it.each([
    {
      name: 'adds a condition that was absent, stamped now',
      before: [],
      update: { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ok' } as const,
      expected: [{ ...ready, observedGeneration: 2, lastTransitionTime: t1.toISOString() }],
    },
    {
      name: 'keeps lastTransitionTime when only the message or generation changes',
      before: [ready],
      update: { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'still ok' } as const,
      expected: [{ ...ready, message: 'still ok', observedGeneration: 2 }],
    },
    {
      name: 'moves lastTransitionTime when the status flips',
      before: [ready],
      update: { type: 'Ready', status: 'False', reason: 'TargetNotFound', message: 'gone' } as const,
      expected: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'TargetNotFound',
          message: 'gone',
          observedGeneration: 2,
          lastTransitionTime: t1.toISOString(),
        },
      ],
    },
  ])('$name', ({ before, update, expected }) => {
    expect(setCondition(before, update, 2, t1)).toEqual(expected);
  });

  it('leaves other condition types alone', () => {
    const paused: Condition = { ...ready, type: 'Paused', status: 'False', reason: 'NotPaused' };
    const result = setCondition(
      [ready, paused],
      { type: 'Paused', status: 'True', reason: 'PausedByAnnotation', message: '' },
      3,
      t1,
    );
    expect(findCondition(result, 'Ready')).toEqual(ready);
    expect(findCondition(result, 'Paused')?.status).toBe('True');
  });
});
