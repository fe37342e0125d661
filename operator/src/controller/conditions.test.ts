import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Condition } from '../api/v1alpha1/index.ts';
import { conditionMessage, findCondition, MAX_CONDITION_MESSAGE, setCondition } from './conditions.ts';

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

describe('conditionMessage', () => {
  const clause = (n: number) => `node-${n}.redis.shop.svc:6379 refused CONFIG SET (ERR unknown command)`;
  it.each([
    { name: 'a short message as it is', message: 'no change in flight', expected: 'no change in flight' },
    {
      name: 'many problems: the whole ones that fit, and how many more',
      message: Array.from({ length: 8 }, (_, i) => clause(i)).join('; '),
      expected: `${[0, 1, 2].map(clause).join('; ')}; +5 more`,
    },
    {
      name: 'one problem too long on its own: cut inside, with an ellipsis',
      message: `not applied to ${'x'.repeat(300)}`,
      expected: `not applied to ${'x'.repeat(MAX_CONDITION_MESSAGE - 'not applied to …'.length)}…`,
    },
  ])('$name', ({ message, expected }) => {
    expect(conditionMessage(message)).toBe(expected);
  });

  it('says where the rest is when told', () => {
    const message = Array.from({ length: 8 }, (_, i) => clause(i)).join('; ');
    expect(conditionMessage(message, 'see Events')).toMatch(/; \+5 more \(see Events\)$/);
  });

  test.prop(
    [
      fc.oneof(
        fc.string({ maxLength: 2000, size: 'max' }),
        fc.string({ unit: 'grapheme', maxLength: 600, size: 'max' }),
      ),
    ],
    {
      numRuns: 300,
    },
  )(`setCondition keeps every message within ${MAX_CONDITION_MESSAGE} characters`, (message) => {
    const [condition] = setCondition(
      [],
      { type: 'Degraded', status: 'True', reason: 'ApplyFailed', message },
      1,
      t0,
    );
    expect(condition?.message.length).toBeLessThanOrEqual(MAX_CONDITION_MESSAGE);
    if (message.length <= MAX_CONDITION_MESSAGE) expect(condition?.message).toBe(message);
  });
});
