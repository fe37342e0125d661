import { Testing } from 'cdk8s';
import Value from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { PerformanceProfileSpec } from '../../operator/src/api/v1alpha1/performance-profile.ts';
import { PerformanceProfile } from './performance-profile.ts';

const spec = Value.Default(PerformanceProfileSpec, {
  targetRef: { name: 'risk-api' },
}) as PerformanceProfileSpec;

describe('PerformanceProfile', () => {
  it('emits a perfpilot.dev/v1alpha1 PerformanceProfile with the given spec', () => {
    const chart = Testing.chart();
    new PerformanceProfile(chart, 'pp', { namespace: 'perfpilot', name: 'risk-api', spec });
    const [pp] = Testing.synth(chart);
    expect(pp).toMatchObject({ apiVersion: 'perfpilot.dev/v1alpha1', kind: 'PerformanceProfile', spec });
    expect([...Value.Errors(PerformanceProfileSpec, pp.spec)]).toEqual([]);
  });

  it('rejects knob bounds whose smallest configuration exceeds the connection budget', () => {
    const chart = Testing.chart();
    const tight = { ...spec, database: { maxConnections: 20, reservedConnections: 15 } };
    expect(
      () => new PerformanceProfile(chart, 'pp', { namespace: 'perfpilot', name: 'x', spec: tight }),
    ).toThrow(
      'PerformanceProfile: spec.knobs allow no configuration within the connection budget: replicas.floor x (poolSize.min + maxOverflow.min) = 10, but maxConnections - reservedConnections = 5',
    );
  });
});
