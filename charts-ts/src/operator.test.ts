import type { V1Container as Container } from '@kubernetes/client-node';
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

  it('serves /metrics securely by default: probes on the health port, and the review ClusterRole bound to it', () => {
    const objects = synth() as {
      kind: string;
      metadata: { name: string };
      rules?: unknown;
      subjects?: unknown;
      spec?: { template: { spec: { containers: Container[] } } };
    }[];
    const container = objects.find((o) => o.kind === 'Deployment')?.spec?.template.spec.containers[0];
    expect(container?.ports).toEqual([
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'health', containerPort: 8081, protocol: 'TCP' },
    ]);
    expect(container?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container?.env?.map((e) => e.name)).not.toContain('INSECURE_METRICS');
    const reviews = (o: { kind: string; metadata: { name: string } }) =>
      o.metadata.name === 'perfpilot-operator-metrics-auth';
    expect(objects.find((o) => o.kind === 'ClusterRole' && reviews(o))?.rules).toEqual([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ]);
    expect(objects.find((o) => o.kind === 'ClusterRoleBinding' && reviews(o))?.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'perfpilot-operator', namespace: 'perfpilot' },
    ]);
  });

  it('mounts a cert-manager Secret for /metrics when named', () => {
    const objects = synth({ config: { ...values.operator, metricsCertSecret: 'operator-metrics-cert' } }) as {
      kind: string;
      spec?: { template: { spec: { containers: Container[]; volumes: unknown[] } } };
    }[];
    const pod = objects.find((o) => o.kind === 'Deployment')?.spec?.template.spec;
    expect(pod?.volumes).toContainEqual({
      name: 'metrics-certs',
      secret: { secretName: 'operator-metrics-cert' },
    });
    expect(pod?.containers[0]?.volumeMounts).toContainEqual({
      name: 'metrics-certs',
      mountPath: '/etc/perfpilot/metrics-certs',
      readOnly: true,
    });
    expect(pod?.containers[0]?.env).toContainEqual({
      name: 'METRICS_CERT_DIR',
      value: '/etc/perfpilot/metrics-certs',
    });
  });

  it('serves plain /metrics without the review ClusterRole when metricsSecure is false', () => {
    const objects = synth({ config: { ...values.operator, metricsSecure: false } }) as {
      kind: string;
      metadata: { name: string };
      spec?: { template: { spec: { containers: Container[] } } };
    }[];
    expect(objects.filter((o) => o.metadata.name === 'perfpilot-operator-metrics-auth')).toEqual([]);
    expect(
      objects.find((o) => o.kind === 'Deployment')?.spec?.template.spec.containers[0]?.env,
    ).toContainEqual({
      name: 'INSECURE_METRICS',
      value: 'true',
    });
  });

  it.each([
    [{ healthPort: 80 }, 'Operator: config.healthPort must be an integer from 1024 to 65535, got 80'],
    [{ healthPort: 8080 }, 'Operator: config.healthPort must differ from config.metricsPort, both are 8080'],
    [
      { metricsSecure: false, metricsCertSecret: 'cert' },
      'Operator: config.metricsCertSecret (cert) needs config.metricsSecure: true',
    ],
  ])('rejects %j', (override, message) => {
    expect(() => synth({ config: { ...values.operator, ...override } })).toThrow(message);
  });

  it('rejects more than 5 replicas', () => {
    expect(() => synth({ config: { ...values.operator, replicas: 9 } })).toThrow(
      'Operator: config.replicas must be from 1 to 5, got 9',
    );
  });
});
