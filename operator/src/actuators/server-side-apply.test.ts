import { describe, expect, it } from 'vitest';
import { conflictSummary, parseFieldConflicts } from './server-side-apply.ts';

/** A 409 Status body as kube-apiserver sends it for an apply conflict. */
const conflictStatus = {
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  message:
    'Apply failed with 2 conflicts: conflicts with "argocd-controller" using autoscaling/v2:\n- .spec.minReplicas\n- .spec.maxReplicas',
  reason: 'Conflict',
  details: {
    causes: [
      {
        reason: 'FieldManagerConflict',
        message: 'conflict with "argocd-controller" using autoscaling/v2',
        field: '.spec.minReplicas',
      },
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-edit"', field: '.spec.maxReplicas' },
    ],
  },
  code: 409,
};

describe('parseFieldConflicts', () => {
  it.each([
    ['a JSON string body', JSON.stringify(conflictStatus)],
    ['a parsed body', conflictStatus],
  ])('names each manager and field from %s', (_what, body) => {
    expect(parseFieldConflicts(body)).toEqual({
      conflicts: [
        { manager: 'argocd-controller', field: '.spec.minReplicas' },
        { manager: 'kubectl-edit', field: '.spec.maxReplicas' },
      ],
      message: conflictStatus.message,
    });
  });

  it.each([
    [
      'an optimistic-lock conflict (no field causes)',
      { code: 409, reason: 'Conflict', message: 'the object has been modified' },
    ],
    ['a body that is not JSON', 'upstream connect error'],
    ['null', null],
    ['causes of another reason', { details: { causes: [{ reason: 'FieldValueInvalid', field: '.spec' }] } }],
  ])('is undefined for %s, so the caller rethrows', (_what, body) => {
    expect(parseFieldConflicts(body)).toBeUndefined();
  });

  it('keeps a conflict whose manager it cannot read, as "unknown"', () => {
    const body = { details: { causes: [{ reason: 'FieldManagerConflict', field: '.data.DB_POOL_SIZE' }] } };
    expect(parseFieldConflicts(body)?.conflicts).toEqual([
      { manager: 'unknown', field: '.data.DB_POOL_SIZE' },
    ]);
  });
});

describe('conflictSummary', () => {
  it('renders every conflict on one line', () => {
    expect(
      conflictSummary([
        { manager: 'argocd-controller', field: '.spec.minReplicas' },
        { manager: 'kubectl', field: '.spec.maxReplicas' },
      ]),
    ).toBe('.spec.minReplicas owned by "argocd-controller", .spec.maxReplicas owned by "kubectl"');
  });
});
