import { describe, expect, it } from 'vitest';
import { LAST_CHANGE_ANNOTATION } from '../api/v1alpha1/index.ts';
import {
  conflictSummary,
  parseFieldConflicts,
  recordMetadata,
  strayOwnedFields,
} from './server-side-apply.ts';

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

describe('strayOwnedFields', () => {
  const hpaBody = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'risk-api', namespace: 'shop' },
    spec: { minReplicas: 3, maxReplicas: 8 },
  };
  const live = (manager: string, operation: string, fieldsV1: object) => ({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'risk-api', managedFields: [{ manager, operation, fieldsV1 }] },
  });

  it.each([
    [
      'perfpilot owns only the bounds',
      live('perfpilot', 'Apply', { 'f:spec': { 'f:minReplicas': {}, 'f:maxReplicas': {} } }),
      [],
    ],
    ['perfpilot owns nothing yet', live('kubectl', 'Apply', { 'f:spec': { 'f:metrics': {} } }), []],
    [
      'perfpilot owns fields by Update only',
      live('perfpilot', 'Update', { 'f:spec': { 'f:metrics': {} } }),
      [],
    ],
    [
      'perfpilot was handed the whole object (kubectl on a client-side-applied object)',
      live('perfpilot', 'Apply', {
        'f:metadata': {
          'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} },
        },
        'f:spec': {
          'f:minReplicas': {},
          'f:maxReplicas': {},
          'f:metrics': {},
          'f:scaleTargetRef': { 'f:apiVersion': {}, 'f:kind': {}, 'f:name': {} },
        },
      }),
      [
        '.metadata.annotations.kubectl.kubernetes.io/last-applied-configuration',
        '.spec.metrics',
        '.spec.scaleTargetRef.apiVersion',
        '.spec.scaleTargetRef.kind',
        '.spec.scaleTargetRef.name',
      ],
    ],
  ])('%s', (_name, object, expected) => {
    expect(strayOwnedFields(object, hpaBody, 'perfpilot')).toEqual(expected);
  });

  it('counts annotation keys of the body as its own', () => {
    const body = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', annotations: { 'perfpilot.dev/config-rolled-at': 't' } },
      spec: { template: { metadata: { annotations: { 'perfpilot.dev/config-hash': 'h' } } } },
    };
    const object = {
      ...body,
      metadata: {
        name: 'api',
        managedFields: [
          {
            manager: 'perfpilot',
            operation: 'Apply',
            fieldsV1: {
              'f:metadata': { 'f:annotations': { 'f:perfpilot.dev/config-rolled-at': {} } },
              'f:spec': {
                'f:template': { 'f:metadata': { 'f:annotations': { 'f:perfpilot.dev/config-hash': {} } } },
              },
            },
          },
        ],
      },
    };
    expect(strayOwnedFields(object, body, 'perfpilot')).toEqual([]);
  });
});

describe('recordMetadata: the change record an apply carries', () => {
  const live = (record?: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'c',
      annotations: { other: 'x', ...(record ? { [LAST_CHANGE_ANNOTATION]: record } : {}) },
    },
  });
  it.each<[string, ReturnType<typeof live> | undefined, string | undefined, object]>([
    ['a new record', live('old'), 'new', { annotations: { [LAST_CHANGE_ANNOTATION]: 'new' } }],
    [
      'no new record: the one the object holds, kept',
      live('old'),
      undefined,
      { annotations: { [LAST_CHANGE_ANNOTATION]: 'old' } },
    ],
    ['no record anywhere: no annotations at all (an empty map would be owned)', live(), undefined, {}],
    ['no object read', undefined, undefined, {}],
  ])('%s', (_name, object, record, want) => {
    expect(recordMetadata(object, record)).toEqual(want);
  });
});
