import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { defaultValues } from './load-values.ts';
import { Operator, type OperatorProps } from './operator.ts';

const values = defaultValues();
const props: OperatorProps = {
  namespace: 'perfpilot',
  config: values.operator,
  secretNames: ['redis-auth'],
  monitoringNamespace: 'monitoring',
};

function synth(overrides: Partial<OperatorProps> = {}) {
  const chart = Testing.chart();
  new Operator(chart, 'operator', { ...props, ...overrides });
  return Testing.synth(chart) as { kind: string; metadata: { name: string }; rules?: unknown }[];
}

describe('Operator', () => {
  it('synthesizes ServiceAccount, Role, binding, Deployment, metrics Service, PDB and NetworkPolicy', () => {
    expect(synth()).toMatchSnapshot();
  });

  it('is granted exactly the verbs it uses, with the Secret by name', () => {
    expect(synth().find((o) => o.kind === 'Role' && o.metadata.name === 'perfpilot-operator')?.rules).toEqual(
      [
        {
          apiGroups: ['perfpilot.dev'],
          resources: ['performanceprofiles'],
          verbs: ['get', 'list', 'watch', 'patch'],
        },
        { apiGroups: ['perfpilot.dev'], resources: ['performanceprofiles/status'], verbs: ['patch'] },
        {
          apiGroups: ['autoscaling'],
          resources: ['horizontalpodautoscalers'],
          verbs: ['get', 'list', 'watch', 'patch'],
        },
        { apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: ['get', 'patch'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'patch'] },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'patch'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['redis-auth'], verbs: ['get'] },
        { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
      ],
    );
  });

  it('rejects a metrics port below 1024', () => {
    expect(() => synth({ config: { ...values.operator, metricsPort: 80 } })).toThrow(
      'Operator: config.metricsPort must be an integer from 1024 to 65535, got 80',
    );
  });

  it('rejects more than 5 replicas', () => {
    expect(() => synth({ config: { ...values.operator, replicas: 9 } })).toThrow(
      'Operator: config.replicas must be from 1 to 5, got 9',
    );
  });
});
