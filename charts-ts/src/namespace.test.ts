import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { StackNamespace } from './namespace.ts';

describe('StackNamespace', () => {
  it('enforces, audits and warns on Pod Security restricted', () => {
    const chart = Testing.chart();
    new StackNamespace(chart, 'ns', { name: 'perfpilot' });
    expect(Testing.synth(chart)).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'perfpilot',
          labels: {
            'app.kubernetes.io/part-of': 'perfpilot',
            'pod-security.kubernetes.io/audit': 'restricted',
            'pod-security.kubernetes.io/audit-version': 'latest',
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
            'pod-security.kubernetes.io/warn': 'restricted',
            'pod-security.kubernetes.io/warn-version': 'latest',
          },
        },
      },
    ]);
  });
});
