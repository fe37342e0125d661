import { describe, expect, it } from 'vitest';
import {
  DEPLOYMENT_FIELDS,
  foreignOwners,
  HPA_FIELDS,
  handOverCommands,
  kedaOwnerOf,
  TUNING_CONFIGMAP_FIELDS,
} from './field-owners.ts';

const hpaFields = (manager: string, operation: string, spec: Record<string, object>) => ({
  manager,
  operation,
  apiVersion: 'autoscaling/v2',
  fieldsType: 'FieldsV1',
  fieldsV1: { 'f:spec': spec },
});

describe('foreignOwners', () => {
  it.each<[string, Parameters<typeof foreignOwners>[0], string[]]>([
    [
      'nobody but perfpilot',
      [hpaFields('perfpilot', 'Apply', { 'f:minReplicas': {}, 'f:maxReplicas': {} })],
      [],
    ],
    [
      'a GitOps tool owning minReplicas',
      [hpaFields('argocd-controller', 'Apply', { 'f:minReplicas': {}, 'f:metrics': {} })],
      ['argocd-controller Apply spec.minReplicas'],
    ],
    [
      'kubectl create owning both',
      [hpaFields('kubectl-create', 'Update', { 'f:minReplicas': {}, 'f:maxReplicas': {} })],
      ['kubectl-create Update spec.minReplicas', 'kubectl-create Update spec.maxReplicas'],
    ],
    [
      'the status subresource, which holds no spec field',
      [{ ...hpaFields('kube-controller-manager', 'Update', { 'f:minReplicas': {} }), subresource: 'status' }],
      [],
    ],
    ['no managedFields', undefined, []],
  ])('%s', (_, managedFields, expected) => {
    expect(
      foreignOwners(managedFields, HPA_FIELDS).map((o) => `${o.manager} ${o.operation} ${o.field}`),
    ).toEqual(expected);
  });

  it('finds the pool keys and the config-hash annotation by their paths', () => {
    const cm = [
      {
        manager: 'helm',
        operation: 'Update',
        fieldsV1: { 'f:data': { 'f:DB_POOL_SIZE': {}, 'f:OTHER': {} } },
      },
    ];
    expect(foreignOwners(cm, TUNING_CONFIGMAP_FIELDS).map((o) => o.field)).toEqual(['data.DB_POOL_SIZE']);
    const deployment = [
      {
        manager: 'kubectl',
        operation: 'Apply',
        fieldsV1: {
          'f:spec': {
            'f:template': { 'f:metadata': { 'f:annotations': { 'f:perfpilot.dev/config-hash': {} } } },
          },
        },
      },
    ];
    expect(foreignOwners(deployment, DEPLOYMENT_FIELDS).map((o) => o.field)).toEqual([
      'spec.template.metadata.annotations["perfpilot.dev/config-hash"]',
    ]);
  });
});

describe('kedaOwnerOf', () => {
  it('names the ScaledObject that owns an HPA, and nothing else', () => {
    const ref = (apiVersion: string, kind: string) => ({ apiVersion, kind, name: 'api-so', uid: 'u' });
    expect(kedaOwnerOf([ref('keda.sh/v1alpha1', 'ScaledObject')])).toBe('api-so');
    expect(kedaOwnerOf([ref('apps/v1', 'Deployment')])).toBeUndefined();
    expect(kedaOwnerOf(undefined)).toBeUndefined();
  });
});

describe('handOverCommands', () => {
  it('applies every written field of the object at its current value, then tells the applier to let go', () => {
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'api', namespace: 'shop' },
      spec: { minReplicas: 2, maxReplicas: 10, scaleTargetRef: { kind: 'Deployment', name: 'api' } },
    };
    const owners = [{ field: 'spec.minReplicas', manager: 'argocd-controller', operation: 'Apply' }];
    expect(handOverCommands(hpa, HPA_FIELDS, owners)).toBe(
      [
        "kubectl apply --server-side --force-conflicts --field-manager=perfpilot -f - <<'YAML'",
        'apiVersion: autoscaling/v2',
        'kind: HorizontalPodAutoscaler',
        'metadata: { name: api, namespace: shop }',
        'spec: { minReplicas: 2, maxReplicas: 10 }',
        'YAML',
        'then drop these fields from what argocd-controller applies, or its next apply takes them back',
        '(docs/guides/gitops.md, "Hand the tuned fields to the operator")',
      ].join('\n'),
    );
  });

  it('keeps ConfigMap values strings and says nothing more for a manager that only updated', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'api-tuning', namespace: 'shop' },
      data: { DB_POOL_SIZE: '20', DB_MAX_OVERFLOW: '30', OTHER: 'x' },
    };
    const owners = [{ field: 'data.DB_POOL_SIZE', manager: 'kubectl-create', operation: 'Update' }];
    const text = handOverCommands(cm, TUNING_CONFIGMAP_FIELDS, owners);
    expect(text).toContain('data: { DB_POOL_SIZE: "20", DB_MAX_OVERFLOW: "30" }');
    expect(text).not.toContain('OTHER');
    expect(text.endsWith('YAML')).toBe(true);
  });
});
