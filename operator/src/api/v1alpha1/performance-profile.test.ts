import Value from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { configHash } from './config-hash.ts';
import { DEFAULT_KNOB_BOUNDS, DEFAULT_SLO } from './defaults.ts';
import { isPaused, PerformanceProfileSpec, requestRateMetricOf } from './performance-profile.ts';
import { configMapNameOf, hpaNameOf } from './target-ref.ts';

describe('PerformanceProfile helpers', () => {
  it('find the HPA and the tuning ConfigMap by the Deployment’s name unless named', () => {
    const ref = { apiVersion: 'apps/v1' as const, kind: 'Deployment' as const, name: 'risk-api' };
    expect([hpaNameOf(ref), configMapNameOf(ref)]).toEqual(['risk-api', 'risk-api-tuning']);
    expect([hpaNameOf({ ...ref, hpaName: 'h' }), configMapNameOf({ ...ref, configMapName: 'c' })]).toEqual([
      'h',
      'c',
    ]);
  });

  it('pause only on the annotation value "true"', () => {
    expect(isPaused({ annotations: { 'perfpilot.dev/paused': 'true' } })).toBe(true);
    expect(isPaused({ annotations: { 'perfpilot.dev/paused': 'false' } })).toBe(false);
    expect(isPaused({})).toBe(false);
  });

  it('name the HPA metric whose request-rate target is tuned, only where the profile asks', () => {
    const spec = (knobs: object) =>
      Value.Default(PerformanceProfileSpec, { targetRef: { name: 'api' }, knobs }) as PerformanceProfileSpec;
    const rate = { metricName: 'http_requests_per_second', minPerPod: 100, maxPerPod: 900 };
    expect(requestRateMetricOf({ spec: spec({ hpaTarget: { requestRate: rate } }) })).toBe(
      'http_requests_per_second',
    );
    expect(requestRateMetricOf({ spec: spec({ hpaTarget: {} }) })).toBeUndefined();
    expect(requestRateMetricOf({ spec: spec({}) })).toBeUndefined();
  });

  it('defaults a spec offline exactly as the CRD’s defaults do on the server', () => {
    const spec = Value.Default(PerformanceProfileSpec, {
      targetRef: { name: 'risk-api' },
    }) as PerformanceProfileSpec;
    expect(spec.mode).toBe('Recommend');
    expect(spec.slo).toEqual(DEFAULT_SLO);
    expect(spec.knobs).toEqual(DEFAULT_KNOB_BOUNDS);
    expect(spec.metrics).toEqual({});
    expect(Value.Check(PerformanceProfileSpec, spec)).toBe(true);
  });
});

describe('configHash', () => {
  it('depends on the data, not on the order of its keys', () => {
    expect(configHash({ A: '1', B: '2' })).toBe(configHash({ B: '2', A: '1' }));
    expect(configHash({ A: '1', B: '2' })).not.toBe(configHash({ A: '1', B: '3' }));
    expect(configHash({ DB_POOL_SIZE: '20' })).toMatch(/^[0-9a-f]{16}$/);
  });
});
