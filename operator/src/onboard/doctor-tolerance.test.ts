import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { SCALES_ON_REQUEST_RATE } from '../actuators/replica-bounds.ts';
import type { PerformanceProfile } from '../api/v1alpha1/index.ts';
import { defaultedProfileSpec } from '../tuning/tuning-spec-from-profile.ts';
import { hpaTargetLines, hpaToleranceLine, rateMetricLine } from './doctor.ts';

const hpa = (behavior: object): V2HorizontalPodAutoscaler => ({
  spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' }, maxReplicas: 10, behavior },
});

describe("doctor's HPA tolerance line", () => {
  it.each<[string, object, string]>([
    ['no behavior', {}, 'scale-up 10 % (the cluster default), scale-down 10 % (the cluster default)'],
    [
      "the user's 2 % scale-down, as the API server writes it",
      { scaleDown: { tolerance: '20m' } },
      'scale-up 10 % (the cluster default), scale-down 2 % (spec.behavior.scaleDown.tolerance)',
    ],
    [
      'an unreadable scale-up beside a readable scale-down',
      { scaleUp: { tolerance: 'lots' }, scaleDown: { tolerance: '0.05' } },
      'scale-up 10 % (the cluster default), scale-down 5 % (spec.behavior.scaleDown.tolerance)',
    ],
  ])('%s', (_name, behavior, detail) => {
    expect(hpaToleranceLine(hpa(behavior))).toEqual({
      verdict: 'ok',
      check: 'HPA tolerance',
      detail: `${detail}: the operator sizes the HPA target's steps and the replica floor by these`,
    });
  });
});

describe("doctor's HPA target lines", () => {
  const profile = (hpaTarget?: object) =>
    ({
      spec: defaultedProfileSpec({
        targetRef: { name: 'api' },
        ...(hpaTarget ? { knobs: { hpaTarget } } : {}),
      }),
    }) as PerformanceProfile;
  const rate = { requestRate: { metricName: 'http_requests_per_second', minPerPod: 100, maxPerPod: 900 } };

  it('says nothing where the profile tunes no HPA target', () => {
    expect(hpaTargetLines(profile(), { current: { hpaTargetCpuPercent: 70 } })).toEqual([]);
  });

  it('names each target in force where the operator tunes it', () => {
    expect(
      hpaTargetLines(profile(rate), { current: { hpaTargetCpuPercent: 70, hpaTargetRequestsPerPod: 400 } }),
    ).toEqual([
      {
        verdict: 'ok',
        check: 'HPA CPU target',
        detail: "70 % (the Resource cpu metric's averageUtilization): the operator tunes it",
      },
      {
        verdict: 'ok',
        check: 'HPA request-rate target',
        detail: "400 requests/s a pod (http_requests_per_second's averageValue): the operator tunes it",
      },
    ]);
  });

  it('says, without a warning, that an HPA on the tuned request rate alone has no CPU target', () => {
    expect(
      hpaTargetLines(profile(rate), {
        current: { hpaTargetRequestsPerPod: 400 },
        untunedKnobs: { hpaTargetCpuPercent: SCALES_ON_REQUEST_RATE },
      })[0],
    ).toEqual({ verdict: 'ok', check: 'HPA CPU target', detail: SCALES_ON_REQUEST_RATE });
  });

  it('warns, with the reason and the fix, where the HPA does not let it tune a target the profile asks for', () => {
    const held =
      'HorizontalPodAutoscaler api has no Pods, Object or External metric http_requests_per_second with target.type AverageValue of at least 1: the request-rate target is held';
    const lines = hpaTargetLines(profile(rate), {
      current: { hpaTargetCpuPercent: 70 },
      untunedKnobs: { hpaTargetRequestsPerPod: held },
    });
    expect(lines[1]).toEqual({
      verdict: 'warn',
      check: 'HPA request-rate target',
      detail: held,
      fix: 'name in spec.knobs.hpaTarget.requestRate.metricName a Pods, Object or External metric of the HPA with target.type AverageValue (now http_requests_per_second)',
    });
  });
});

describe("doctor's HPA request-rate metric line", () => {
  const metricName = 'http_requests_per_second';
  /** The user's HPA as its controller last read the metric: `averageValue` a pod on 4 pods. */
  const reading = (averageValue?: string): V2HorizontalPodAutoscaler => ({
    metadata: { name: 'checkout' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'checkout' }, maxReplicas: 10 },
    status: {
      currentReplicas: 4,
      desiredReplicas: 4,
      currentMetrics:
        averageValue === undefined
          ? []
          : [{ type: 'Pods', pods: { metric: { name: metricName }, current: { averageValue } } }],
    },
  });
  // The profile's request rate: 1,600 requests/s on 4 ready pods.
  it.each<[string, V2HorizontalPodAutoscaler, number | undefined, string, RegExp]>([
    [
      'the same requests',
      reading('410'),
      1600,
      'ok',
      /^the HPA reads http_requests_per_second at 410\/pod, the profile 400\/pod on 4 pods: within 25 %, the same requests$/,
    ],
    [
      'a metric per minute',
      reading('24k'),
      1600,
      'warn',
      /^http_requests_per_second reads 24000\/pod on 4 pods, the profile 400\/pod: not the same requests per second: the operator holds the request-rate target$/,
    ],
    [
      'no reading by the HPA',
      reading(),
      1600,
      'warn',
      /has no reading of http_requests_per_second in status.currentMetrics/,
    ],
    ['no request rate read', reading('410'), undefined, 'warn', /the profile's request rate was not read/],
    // No load: nothing to compare (it read "the same requests" before one comparison served both).
    ['no requests', reading('0'), 0, 'warn', /no request or no pod was counted, so they are not compared/],
  ])('%s', (_name, hpa, rps, verdict, detail) => {
    const line = rateMetricLine(hpa, metricName, rps, 4);
    expect(line.verdict).toBe(verdict);
    expect(line.check).toBe('HPA request-rate metric');
    expect(line.detail).toMatch(detail);
  });
});
