import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { defaultValues } from './load-values.ts';
import { Operator, type OperatorProps } from './operator.ts';

interface Synthesized {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: {
    apiGroups?: string[];
    resources?: string[];
    resourceNames?: string[];
    nonResourceURLs?: string[];
    verbs: string[];
  }[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace: string }[];
  spec?: {
    template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[] } };
  };
}

const values = defaultValues();

function synth(operator: Partial<OperatorProps['config']> = {}): Synthesized[] {
  const chart = Testing.chart();
  new Operator(chart, 'operator', {
    namespace: 'perfpilot',
    config: { ...values.operator, ...operator },
    secretNames: [],
    monitoringNamespace: 'monitoring',
  });
  return Testing.synth(chart) as Synthesized[];
}

const rbacOf = (objects: Synthesized[]) =>
  objects
    .filter((o) => /Role|ServiceAccount/.test(o.kind))
    .map((o) => `${o.kind} ${o.metadata.namespace ?? '(cluster)'}/${o.metadata.name}`)
    .sort();

function watchNamespaceEnv(objects: Synthesized[]) {
  const deployment = objects.find((o) => o.kind === 'Deployment');
  return deployment?.spec?.template.spec.containers[0]?.env.find((e) => e.name === 'WATCH_NAMESPACE');
}

const COMMON = [
  'ClusterRole (cluster)/performanceprofiles-editor',
  'ClusterRole (cluster)/performanceprofiles-viewer',
  'ClusterRole (cluster)/perfpilot-metrics-reader',
  // The token and access reviews behind a secure /metrics (metrics-auth-role.ts).
  'ClusterRole (cluster)/perfpilot-operator-metrics-auth',
  'ClusterRoleBinding (cluster)/perfpilot-operator-metrics-auth',
  'Role perfpilot/perfpilot-operator-leader-election',
  'RoleBinding perfpilot/perfpilot-operator-leader-election',
  'ServiceAccount perfpilot/perfpilot-operator',
];

describe('OperatorRbac: where the operator may act', () => {
  it.each([
    {
      mode: 'its own namespace (the default)',
      watchNamespaces: [],
      objects: ['Role perfpilot/perfpilot-operator', 'RoleBinding perfpilot/perfpilot-operator'],
      env: { name: 'WATCH_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    },
    {
      mode: 'a list of namespaces, the Lease still in its own',
      watchNamespaces: ['shop', 'payments'],
      objects: [
        'Role payments/perfpilot-operator',
        'Role shop/perfpilot-operator',
        'RoleBinding payments/perfpilot-operator',
        'RoleBinding shop/perfpilot-operator',
      ],
      env: { name: 'WATCH_NAMESPACE', value: 'shop,payments' },
    },
    {
      mode: 'all namespaces',
      watchNamespaces: ['*'],
      objects: [
        'ClusterRole (cluster)/perfpilot-operator',
        'ClusterRoleBinding (cluster)/perfpilot-operator',
      ],
      env: { name: 'WATCH_NAMESPACE', value: '*' },
    },
  ])('$mode', ({ watchNamespaces, objects, env }) => {
    const synthesized = synth({ watchNamespaces });
    expect(rbacOf(synthesized)).toEqual([...COMMON, ...objects].sort());
    expect(watchNamespaceEnv(synthesized)).toEqual(env);
    for (const binding of synthesized.filter((o) => o.kind.endsWith('Binding'))) {
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'perfpilot-operator', namespace: 'perfpilot' },
      ]);
    }
  });

  it('grants Leases only in the operator’s own namespace, never in a tuned one', () => {
    const objects = synth({ watchNamespaces: ['shop'] });
    const withLeases = objects.filter((o) => o.rules?.some((r) => r.resources?.includes('leases')));
    expect(withLeases.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'perfpilot/perfpilot-operator-leader-election',
    ]);
  });

  it('reads Secrets by name only, and none at all when no name is given', () => {
    const secretsRule = (objects: Synthesized[]) =>
      objects
        .find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'perfpilot-operator')
        ?.rules?.filter((r) => r.resources?.includes('secrets'));
    expect(secretsRule(synth({ watchNamespaces: ['*'] }))).toEqual([]);
    expect(secretsRule(synth({ watchNamespaces: ['*'], secretNames: ['redis-auth', 'redis-acl'] }))).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['redis-auth', 'redis-acl'], verbs: ['get'] },
    ]);
  });

  it('the metrics reader may get /metrics and nothing else', () => {
    const reader = synth().find((o) => o.metadata.name === 'perfpilot-metrics-reader');
    expect(reader?.rules).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
  });

  it('aggregates the profile roles to view, edit and admin only when asked', () => {
    const aggregation = (objects: Synthesized[]) =>
      Object.fromEntries(
        objects
          .filter((o) => o.metadata.name.startsWith('performanceprofiles-'))
          .map((o) => [
            o.metadata.name,
            Object.keys(o.metadata.labels ?? {}).filter((l) => l.includes('aggregate-to-')),
          ]),
      );
    expect(aggregation(synth())).toEqual({
      'performanceprofiles-viewer': [],
      'performanceprofiles-editor': [],
    });
    expect(aggregation(synth({ rbac: { aggregateToDefaultRoles: true } }))).toEqual({
      'performanceprofiles-viewer': ['rbac.authorization.k8s.io/aggregate-to-view'],
      'performanceprofiles-editor': [
        'rbac.authorization.k8s.io/aggregate-to-admin',
        'rbac.authorization.k8s.io/aggregate-to-edit',
      ],
    });
  });

  it('the viewer reads profiles; the editor writes them but never their status', () => {
    const objects = synth();
    const rules = (name: string) => objects.find((o) => o.metadata.name === name)?.rules;
    expect(rules('performanceprofiles-viewer')).toEqual([
      { apiGroups: ['perfpilot.dev'], resources: ['performanceprofiles'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['perfpilot.dev'], resources: ['performanceprofiles/status'], verbs: ['get'] },
    ]);
    expect(rules('performanceprofiles-editor')).toEqual([
      {
        apiGroups: ['perfpilot.dev'],
        resources: ['performanceprofiles'],
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      },
      { apiGroups: ['perfpilot.dev'], resources: ['performanceprofiles/status'], verbs: ['get'] },
    ]);
  });

  it('rejects "*" beside namespace names, naming the field', () => {
    expect(() => synth({ watchNamespaces: ['*', 'shop'] })).toThrow(
      'OperatorRbac: watchNamespaces must be namespace names or ["*"] alone, got ["*","shop"]',
    );
  });
});
