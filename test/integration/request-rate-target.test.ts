/**
 * The HPA's request-rate target as a knob, against a real kube-apiserver: a user's HPA that scales
 * on CPU and on a Pods metric of requests per second, written by their GitOps tool and handed over
 * as the guide says. The CRD refuses bounds out of order; the operator reads the target as the API
 * server stores it (quantities come back canonical), says why it holds one it cannot tune, and
 * writes only the AverageValue of the named metric, keeping every other metric as the user wrote it.
 */
import { AutoscalingV2Api, type V2HorizontalPodAutoscaler, type V2MetricSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTargetClients } from '../../operator/src/actuators/context.ts';
import { applyReplicaBounds, rateMetricDisagreement } from '../../operator/src/actuators/replica-bounds.ts';
import { apiTargetReader, observeTarget } from '../../operator/src/actuators/targets.ts';
import { API_VERSION, KIND, type PerformanceProfile } from '../../operator/src/api/v1alpha1/index.ts';
import { defaultedProfileSpec } from '../../operator/src/tuning/tuning-spec-from-profile.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { applyAs, installCrd, kubectlApplyYaml } from './fixtures.ts';

const ns = 'shop';
const name = 'checkout';
const metricName = 'http_requests_per_second';
let cp: ControlPlane;

const cpu: V2MetricSpec = {
  type: 'Resource',
  resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
};
const memory: V2MetricSpec = {
  type: 'Resource',
  resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '512Mi' } },
};
/** The user's request-rate metric, written as 0.4k: the API server stores it as 400. */
const rate = (averageValue: string): V2MetricSpec => ({
  type: 'Pods',
  pods: { metric: { name: metricName }, target: { type: 'AverageValue', averageValue } },
});

const readHpa = async () =>
  await cp.kubeConfig
    .makeApiClient(AutoscalingV2Api)
    .readNamespacedHorizontalPodAutoscaler({ namespace: ns, name });

function userHpa(spec: Partial<NonNullable<V2HorizontalPodAutoscaler['spec']>>): V2HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: ns },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      ...spec,
    } as V2HorizontalPodAutoscaler['spec'],
  };
}

/** A profile of this service that tunes the request-rate target of `metric` within 200..1200, as the API server defaults it. */
function profileFor(metric: string): PerformanceProfile {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { namespace: ns, name },
    spec: defaultedProfileSpec({
      targetRef: { name, pool: { none: {} } },
      knobs: { hpaTarget: { requestRate: { metricName: metric, minPerPod: 200, maxPerPod: 1200 } } },
    }),
  };
}

beforeAll(async () => {
  cp = await startControlPlane();
  await installCrd(cp);
  await cp.kubectl(['create', 'namespace', ns]);
  const metrics = [memory, cpu, rate('0.4k')];
  // The user's GitOps tool writes the HPA; the guide's hand-over gives perfpilot the fields it tunes.
  await applyAs(cp.kubeConfig, 'gitops', userHpa({ minReplicas: 2, maxReplicas: 10, metrics }));
  // Co-owned at the values as stored (an apply of 0.4k against the stored 400 is a conflict).
  await applyAs(cp.kubeConfig, 'perfpilot', {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: ns },
    spec: { minReplicas: 2, maxReplicas: 10, metrics: (await readHpa()).spec?.metrics },
  });
  await applyAs(cp.kubeConfig, 'gitops', userHpa({}));
});

afterAll(async () => {
  await cp?.stop();
});

describe('the request-rate target', () => {
  it('is refused by the CRD when its bounds are out of order, naming both fields', async () => {
    const reversed = [
      `apiVersion: ${API_VERSION}`,
      `kind: ${KIND}`,
      `metadata: {name: reversed, namespace: ${ns}}`,
      'spec:',
      `  targetRef: {name: ${name}, pool: {none: {}}}`,
      `  knobs: {hpaTarget: {requestRate: {metricName: ${metricName}, minPerPod: 900, maxPerPod: 300}}}`,
      '',
    ].join('\n');
    await expect(kubectlApplyYaml(cp, 'reversed.yaml', reversed)).rejects.toThrow(
      /hpaTarget.requestRate.minPerPod must be less than or equal to hpaTarget.requestRate.maxPerPod/,
    );
  });

  it('is read as the API server stores it, and held with a reason where the HPA has no such metric', async () => {
    const read = apiTargetReader(makeTargetClients(cp.kubeConfig));
    const observed = await observeTarget(read, profileFor(metricName));
    expect(observed.current).toMatchObject({
      minReplicas: 2,
      maxReplicas: 10,
      hpaTargetCpuPercent: 70,
      hpaTargetRequestsPerPod: 400,
    });
    expect(observed.untunedKnobs?.hpaTargetRequestsPerPod).toBeUndefined();
    const other = await observeTarget(read, profileFor('queue_depth'));
    expect(other.current.hpaTargetRequestsPerPod).toBeUndefined();
    expect(other.untunedKnobs?.hpaTargetRequestsPerPod).toBe(
      `HorizontalPodAutoscaler ${name} has no Pods, Object or External metric queue_depth with target.type AverageValue of at least 1: the request-rate target is held`,
    );
  });

  it('is written alone: the AverageValue of the named metric, every other metric as the user wrote it', async () => {
    const before = await readHpa();
    const ctx = { clients: makeTargetClients(cp.kubeConfig) };
    const result = await applyReplicaBounds(
      ctx,
      { namespace: ns, name },
      { minReplicas: 2, maxReplicas: 10, requestRate: { metricName, perPod: 550 } },
    );
    expect(result).toMatchObject({
      kind: 'applied',
      before: {
        minReplicas: 2,
        maxReplicas: 10,
        cpuUtilizationPercent: 70,
        requestRate: { metricName, perPod: 400 },
      },
    });
    const after = await readHpa();
    expect(after.spec?.metrics).toEqual([before.spec?.metrics?.[0], before.spec?.metrics?.[1], rate('550')]);
    expect(after.spec?.scaleTargetRef).toEqual(before.spec?.scaleTargetRef);
    // Applied again, the same target writes nothing.
    const again = await applyReplicaBounds(
      ctx,
      { namespace: ns, name },
      { minReplicas: 2, maxReplicas: 10, requestRate: { metricName, perPod: 550 } },
    );
    expect(again.kind).toBe('unchanged');
    expect((await readHpa()).metadata?.resourceVersion).toBe(after.metadata?.resourceVersion);
  });

  it('is held where the HPA’s reading of its metric does not count the profile’s requests', async () => {
    // The HPA controller's status, as it writes it (the status subresource); the profile measures
    // 1,600 requests/s on 4 ready pods.
    const writeReading = async (averageValue: string) => {
      const status = {
        currentReplicas: 4,
        desiredReplicas: 4,
        currentMetrics: [{ type: 'Pods', pods: { metric: { name: metricName }, current: { averageValue } } }],
      };
      await cp.kubectl([
        'patch',
        'hpa',
        name,
        '-n',
        ns,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status }),
      ]);
      return (await observeTarget(apiTargetReader(makeTargetClients(cp.kubeConfig)), profileFor(metricName)))
        .hpa;
    };
    const measured = { requestsPerSecond: 1600, readyReplicas: 4 };
    // 0.41k is stored as 410: the same requests, read per second.
    const same = await writeReading('0.41k');
    expect(same?.status?.currentMetrics?.[0]?.pods?.current.averageValue).toBe('410');
    expect(rateMetricDisagreement(same, metricName, measured)).toBeUndefined();
    // A metric per minute reads 60 times as much.
    const perMinute = await writeReading('24000');
    expect(rateMetricDisagreement(perMinute, metricName, measured)).toBe(
      `${metricName} reads 24000/pod on 4 pods, the profile 400/pod: not the same requests per second`,
    );
  });
});
