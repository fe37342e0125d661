import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  DEPLOYMENT_FIELDS,
  foreignOwners,
  HPA_FIELDS,
  HPA_METRICS_FIELD,
  handOverCommands,
  kedaOwnerOf,
  poolEnvFields,
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

  it('names the metrics list a GitOps tool owns where the profile tunes the HPA target', () => {
    const managed = [hpaFields('argocd-controller', 'Apply', { 'f:metrics': {} })];
    expect(foreignOwners(managed, HPA_FIELDS)).toEqual([]);
    expect(foreignOwners(managed, [...HPA_FIELDS, HPA_METRICS_FIELD]).map((o) => o.field)).toEqual([
      'spec.metrics',
    ]);
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
    const owners = [
      {
        field: 'spec.minReplicas',
        manager: 'argocd-controller',
        operation: 'Apply',
        index: 1,
        path: ['f:spec', 'f:minReplicas'],
      },
    ];
    expect(handOverCommands(hpa, HPA_FIELDS, owners)).toBe(
      [
        "kubectl apply --server-side --field-manager=perfpilot -f - <<'YAML'",
        'apiVersion: autoscaling/v2',
        'kind: HorizontalPodAutoscaler',
        'metadata: { name: api, namespace: shop }',
        'spec: { minReplicas: 2, maxReplicas: 10 }',
        'YAML',
        'then drop these fields from what argocd-controller applies, and apply it again: it lets go of them',
        '(docs/guides/gitops.md, "Hand the tuned fields to the operator")',
      ].join('\n'),
    );
  });

  it('takes the fields out of the entry of a manager that only updated them, then applies; values stay strings', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'api-tuning', namespace: 'shop' },
      data: { DB_POOL_SIZE: '20', DB_MAX_OVERFLOW: '30', OTHER: 'x' },
    };
    const owners = [
      {
        field: 'data.DB_POOL_SIZE',
        manager: 'kubectl-create',
        operation: 'Update',
        index: 0,
        path: ['f:data', 'f:DB_POOL_SIZE'],
      },
      {
        field: 'data.DB_MAX_OVERFLOW',
        manager: 'kubectl-create',
        operation: 'Update',
        index: 0,
        path: ['f:data', 'f:DB_MAX_OVERFLOW'],
      },
    ];
    const lines = handOverCommands(cm, TUNING_CONFIGMAP_FIELDS, owners).split('\n');
    expect(lines[0]).toBe(
      `kubectl -n shop patch configmap api-tuning --type=json -p '[{"op":"test","path":"/metadata/managedFields/0/manager","value":"kubectl-create"},{"op":"remove","path":"/metadata/managedFields/0/fieldsV1/f:data/f:DB_POOL_SIZE"},{"op":"remove","path":"/metadata/managedFields/0/fieldsV1/f:data/f:DB_MAX_OVERFLOW"}]'`,
    );
    expect(lines).toContain('data: { DB_POOL_SIZE: "20", DB_MAX_OVERFLOW: "30" }');
    expect(lines.join('\n')).not.toContain('OTHER');
    expect(lines.at(-1)).toBe('YAML');
  });

  it('escapes an annotation key’s slash in the JSON pointer', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: 'shop' },
      spec: { template: { metadata: { annotations: { 'perfpilot.dev/config-hash': 'abc' } } } },
    };
    const path = ['f:spec', 'f:template', 'f:metadata', 'f:annotations', 'f:perfpilot.dev/config-hash'];
    const text = handOverCommands(deployment, DEPLOYMENT_FIELDS, [
      { field: 'x', manager: 'kubectl-edit', operation: 'Update', index: 2, path },
    ]);
    expect(text).toContain(
      '"path":"/metadata/managedFields/2/fieldsV1/f:spec/f:template/f:metadata/f:annotations/f:perfpilot.dev~1config-hash"',
    );
    expect(text).toContain(
      'spec: { template: { metadata: { annotations: { perfpilot.dev/config-hash: abc } } } }',
    );
  });

  it('hands over a pool env var of the env form: the list items by name, the other vars left out', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'orders',
        namespace: 'shop',
        managedFields: [
          {
            manager: 'shop-admin',
            operation: 'Update',
            fieldsV1: {
              'f:spec': {
                'f:template': {
                  'f:spec': {
                    'f:containers': {
                      'k:{"name":"app"}': {
                        'f:env': {
                          'k:{"name":"SPRING_PROFILES_ACTIVE"}': { 'f:value': {} },
                          'k:{"name":"POOL"}': { 'f:value': {} },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        ],
      },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'sidecar', env: [{ name: 'POOL', value: '99' }] },
              {
                name: 'app',
                env: [
                  { name: 'SPRING_PROFILES_ACTIVE', value: 'prod' },
                  { name: 'POOL', value: '9' },
                ],
              },
            ],
          },
        },
      },
    };
    const fields = poolEnvFields({ container: 'app', sizeVar: 'POOL' });
    const owners = foreignOwners(deployment.metadata.managedFields, fields);
    expect(owners.map((o) => o.field)).toEqual(['spec.template.spec.containers[app].env[POOL].value']);
    const text = handOverCommands(deployment, fields, owners);
    expect(text).toContain(
      '{"op":"remove","path":"/metadata/managedFields/0/fieldsV1/f:spec/f:template/f:spec/f:containers/k:{\\"name\\":\\"app\\"}/f:env/k:{\\"name\\":\\"POOL\\"}/f:value"}',
    );
    const body = parse(text.slice(text.indexOf("<<'YAML'\n") + 8, text.lastIndexOf('YAML')));
    expect(body.spec).toEqual({
      template: { spec: { containers: [{ name: 'app', env: [{ name: 'POOL', value: '9' }] }] } },
    });
  });
});
