/**
 * The replica-bounds actuator: an HPA's `spec.minReplicas` and `spec.maxReplicas`, and, where the
 * profile tunes the HPA's targets, its `spec.metrics`, written by server-side apply as
 * `perfpilot` with a body holding only those fields, so a GitOps tool or a person keeps every other
 * field of the HPA. `spec.metrics` is an atomic list: the body carries the whole list as read,
 * with only the tuned targets changed: the Resource cpu metric's Utilization, the request-rate
 * metric's AverageValue.
 */
import type {
  V1OwnerReference,
  V2HorizontalPodAutoscaler,
  V2MetricSpec,
  V2MetricTarget,
} from '@kubernetes/client-node';
import { quantityToScalar } from '@kubernetes/client-node/dist/util.js';
import { FIELD_MANAGER } from '../api/v1alpha1/index.ts';
import type { ActuatorContext } from './context.ts';
import {
  type ApplyOptions,
  applyFields,
  type FieldConflict,
  readIfExists,
  recordMetadata,
  strayOwnedFields,
} from './server-side-apply.ts';

/** KEDA_API_VERSION is the group and version of KEDA's ScaledObject. */
export const KEDA_API_VERSION = 'keda.sh/v1alpha1';
/** SCALED_OBJECT_KIND is KEDA's kind that owns the HPAs it scales with. */
export const SCALED_OBJECT_KIND = 'ScaledObject';

/**
 * scaledObjectOwnerOf names the KEDA ScaledObject that owns the HPA (its ownerReferences), or
 * undefined when KEDA does not own it.
 */
export function scaledObjectOwnerOf(
  hpa: { readonly metadata?: { readonly ownerReferences?: V1OwnerReference[] } } | undefined,
): string | undefined {
  return hpa?.metadata?.ownerReferences?.find(
    (o) => o.kind === SCALED_OBJECT_KIND && o.apiVersion.startsWith('keda.sh/'),
  )?.name;
}

/** An HPA's replica bounds. */
export interface ReplicaBounds {
  /** minReplicas is `spec.minReplicas`. */
  readonly minReplicas: number;
  /** maxReplicas is `spec.maxReplicas`. */
  readonly maxReplicas: number;
}

/** The HPA's request-rate target: the metric's name and its AverageValue, in requests per second per pod. */
export interface RequestRateTarget {
  /** metricName: the Pods, Object or External metric's name (`spec.knobs.hpaTarget.requestRate.metricName`). */
  readonly metricName: string;
  /** perPod: its `target.averageValue`, in whole requests per second per pod. */
  readonly perPod: number;
}

/** The HPA fields perfpilot writes: the bounds, and the targets the profile tunes. */
export interface HpaFields extends ReplicaBounds {
  /** cpuUtilizationPercent: the Resource cpu metric's Utilization target. */
  readonly cpuUtilizationPercent?: number;
  /** requestRate: the request-rate metric's AverageValue target. Neither target: `spec.metrics` is not written. */
  readonly requestRate?: RequestRateTarget;
}

/**
 * The named source of a Pods, Object or External metric (in `spec.metrics` or
 * `status.currentMetrics`, which share the shape), or undefined for a Resource metric.
 */
function namedSourceOf<S>(metric: {
  readonly type: string;
  readonly pods?: S;
  readonly object?: S;
  readonly external?: S;
}): S | undefined {
  return metric.type === 'Pods'
    ? metric.pods
    : metric.type === 'Object'
      ? metric.object
      : metric.type === 'External'
        ? metric.external
        : undefined;
}

/** The target of a Pods, Object or External metric with this name, when its type is AverageValue. */
function averageValueTarget(metric: V2MetricSpec, metricName: string): V2MetricTarget | undefined {
  const source = namedSourceOf(metric);
  return source?.metric.name === metricName && source.target.type === 'AverageValue'
    ? source.target
    : undefined;
}

/**
 * requestRateTargetOf is the AverageValue target of the HPA's metric named `metricName` (a Pods,
 * Object or External metric), in requests per second per pod, or undefined when the HPA has no such
 * metric or its value is not a quantity of at least 1.
 */
export function requestRateTargetOf(
  hpa: Pick<V2HorizontalPodAutoscaler, 'spec'> | undefined,
  metricName: string,
): number | undefined {
  const metric = hpa?.spec?.metrics?.find((m) => averageValueTarget(m, metricName) !== undefined);
  const raw = metric ? averageValueTarget(metric, metricName)?.averageValue : undefined;
  if (raw === undefined) return undefined;
  let value: number;
  try {
    value = Number(quantityToScalar(String(raw)));
  } catch {
    return undefined;
  }
  return Number.isFinite(value) && value >= 1 ? Math.round(value) : undefined;
}

/**
 * rateTargetNotActuatable says why the HPA's request-rate target cannot be tuned on this HPA (KEDA
 * owns it, or it has no metric of that name with an AverageValue target of at least 1), or
 * undefined when it can.
 */
export function rateTargetNotActuatable(
  hpa: V2HorizontalPodAutoscaler,
  metricName: string,
  scaledObject?: string,
): string | undefined {
  const name = `HorizontalPodAutoscaler ${hpa.metadata?.name ?? ''}`;
  const keda = kedaHoldsTargets(hpa, scaledObject, "the HPA's request-rate target is held");
  if (keda !== undefined) return keda;
  if (requestRateTargetOf(hpa, metricName) === undefined) {
    return `${name} has no Pods, Object or External metric ${metricName} with target.type AverageValue of at least 1: the request-rate target is held`;
  }
  return undefined;
}

/**
 * How far apart the HPA's reading of its request-rate metric and the profile's request rate may be
 * before the operator holds the request-rate target: the pods the reading implies (the profile's
 * requests per second over the HPA's per-pod value) must lie within this factor of the pods running.
 */
export const RATE_METRIC_AGREEMENT = 1.25;

/** The HPA's last reading of the metric `metricName` (`status.currentMetrics`), its averageValue in units per pod. */
export function requestRateReadingOf(
  hpa: Pick<V2HorizontalPodAutoscaler, 'status'> | undefined,
  metricName: string,
): number | undefined {
  for (const metric of hpa?.status?.currentMetrics ?? []) {
    const source = namedSourceOf(metric);
    if (source?.metric.name !== metricName || source.current.averageValue === undefined) continue;
    try {
      const value = Number(quantityToScalar(String(source.current.averageValue)));
      return Number.isFinite(value) && value >= 0 ? value : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The HPA's reading of its request-rate metric beside the profile's request rate. */
export interface RateMetricComparison {
  /** metricName: the HPA's metric compared. */
  readonly metricName: string;
  /** perPod: the HPA's last reading of the metric, per pod. */
  readonly perPod: number;
  /** profilePerPod: the profile's request rate over the most pods counted (ready, or by the HPA). */
  readonly profilePerPod: number;
  /** agrees: whether the pods the reading implies lie within {@link RATE_METRIC_AGREEMENT} of those running. */
  readonly agrees: boolean;
  /** pods: the pods running in words ("4", "3-4"). */
  readonly pods: string;
}

/**
 * rateMetricComparison compares the HPA's request-rate metric with the requests the profile
 * measures, or is undefined where they cannot be compared (no reading, no load, no pod counted).
 * The request-rate target is learned from the profile's requests per ready pod and written to the
 * HPA's metric, so a metric that counts other requests (one endpoint, per minute, another service)
 * would be given a target in the wrong units: the pods its reading implies (`requestsPerSecond` /
 * its per-pod value) must be within {@link RATE_METRIC_AGREEMENT} of the pods running (the ready
 * ones, or all the HPA counts; the HPA's count alone where no ready pod is counted).
 */
export function rateMetricComparison(
  hpa: Pick<V2HorizontalPodAutoscaler, 'metadata' | 'status'> | undefined,
  metricName: string,
  measured: { readonly requestsPerSecond: number; readonly readyReplicas: number } | undefined,
): RateMetricComparison | undefined {
  const perPod = requestRateReadingOf(hpa, metricName);
  if (perPod === undefined || !measured || !(measured.requestsPerSecond > 0)) return undefined;
  // Without a ready count (0: not measured, or no pod ready yet) the HPA's count stands alone.
  const running = hpa?.status?.currentReplicas ?? measured.readyReplicas;
  const ready = measured.readyReplicas > 0 ? measured.readyReplicas : running;
  const fewest = Math.min(ready, running);
  const most = Math.max(ready, running);
  if (!(fewest > 0)) return undefined;
  const implied = perPod > 0 ? measured.requestsPerSecond / perPod : Number.POSITIVE_INFINITY;
  return {
    metricName,
    perPod,
    profilePerPod: measured.requestsPerSecond / most,
    agrees: implied >= fewest / RATE_METRIC_AGREEMENT && implied <= most * RATE_METRIC_AGREEMENT,
    pods: fewest === most ? `${most}` : `${fewest}-${most}`,
  };
}

/**
 * disagreementOf says why a comparison's metric does not count the requests the profile measures
 * (short: it goes into Ready's message), or undefined when they agree or were not compared.
 */
export function disagreementOf(c: RateMetricComparison | undefined): string | undefined {
  if (!c || c.agrees) return undefined;
  const round = (x: number) => (x >= 100 ? Math.round(x) : +x.toPrecision(3));
  return `${c.metricName} reads ${round(c.perPod)}/pod on ${c.pods} pods, the profile ${round(c.profilePerPod)}/pod: not the same requests per second`;
}

/** rateMetricDisagreement is {@link disagreementOf} the {@link rateMetricComparison} of its arguments. */
export function rateMetricDisagreement(
  hpa: Pick<V2HorizontalPodAutoscaler, 'metadata' | 'status'> | undefined,
  metricName: string,
  measured: { readonly requestsPerSecond: number; readonly readyReplicas: number } | undefined,
): string | undefined {
  return disagreementOf(rateMetricComparison(hpa, metricName, measured));
}

/** Whether a metric is the Resource cpu metric with a Utilization target, the one the knob tunes. */
function isCpuUtilization(metric: V2MetricSpec): boolean {
  return (
    metric.type === 'Resource' &&
    metric.resource?.name === 'cpu' &&
    metric.resource.target.type === 'Utilization'
  );
}

/**
 * cpuUtilizationTargetOf is the HPA's average CPU utilization target in percent (the Resource cpu
 * metric with `target.type: Utilization`), or undefined when it has none.
 */
export function cpuUtilizationTargetOf(
  hpa: Pick<V2HorizontalPodAutoscaler, 'spec'> | undefined,
): number | undefined {
  const value = hpa?.spec?.metrics?.find(isCpuUtilization)?.resource?.target.averageUtilization;
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** Why KEDA's ownership holds the HPA's targets (it writes the metrics from its triggers), or undefined. */
function kedaHoldsTargets(
  hpa: V2HorizontalPodAutoscaler,
  scaledObject: string | undefined,
  held: string,
): string | undefined {
  const keda = scaledObject ?? scaledObjectOwnerOf(hpa);
  return keda === undefined
    ? undefined
    : `HorizontalPodAutoscaler ${hpa.metadata?.name ?? ''} is owned by KEDA ${SCALED_OBJECT_KIND} ${keda}, which writes its metrics from its triggers: ${held}`;
}

/**
 * hpaTargetNotActuatable says why the HPA's CPU target cannot be tuned on this HPA (KEDA owns it,
 * or it has no Resource cpu metric of type Utilization), or undefined when it can.
 */
export function hpaTargetNotActuatable(
  hpa: V2HorizontalPodAutoscaler,
  scaledObject?: string,
  rateTuned = false,
): string | undefined {
  const name = `HorizontalPodAutoscaler ${hpa.metadata?.name ?? ''}`;
  const keda = kedaHoldsTargets(hpa, scaledObject, "the HPA's target is held");
  if (keda !== undefined) return keda;
  if (cpuUtilizationTargetOf(hpa) === undefined) {
    return rateTuned
      ? SCALES_ON_REQUEST_RATE
      : `${name} has no Resource cpu metric with target.type Utilization: the HPA's target is held`;
  }
  return undefined;
}

/**
 * Why the CPU target is not tuned where the profile tunes the request-rate target and the HPA has
 * no CPU Utilization metric: it scales on the request rate, which is no problem to report.
 */
export const SCALES_ON_REQUEST_RATE =
  'the HPA has no Resource cpu Utilization metric: it scales on the request rate, whose target is tuned';

/**
 * metricsWithCpuTarget is the HPA's `spec.metrics` as read with only the cpu Utilization target set
 * to `percent`: every other metric, and every other field of the cpu metric, as the user wrote it.
 * Throws when the list has no such metric (the knob is then not tuned: {@link hpaTargetNotActuatable}).
 */
export function metricsWithCpuTarget(
  metrics: readonly V2MetricSpec[] | undefined,
  percent: number,
): V2MetricSpec[] {
  if (!Number.isInteger(percent) || percent < 1 || percent > 100) {
    throw new RangeError(`cpuUtilizationPercent must be a whole number in [1, 100], got ${percent}`);
  }
  const list = metrics ?? [];
  if (!list.some(isCpuUtilization)) {
    throw new RangeError('spec.metrics has no Resource cpu metric with target.type Utilization to set');
  }
  return list.map((m) =>
    isCpuUtilization(m) && m.resource
      ? { ...m, resource: { ...m.resource, target: { ...m.resource.target, averageUtilization: percent } } }
      : m,
  );
}

/**
 * metricsWithRateTarget is the HPA's `spec.metrics` as read with only the request-rate metric's
 * AverageValue target set to `target.perPod`: every other metric and field as the user wrote it.
 * Throws when the list has no such metric (the knob is then not tuned: {@link rateTargetNotActuatable}).
 */
export function metricsWithRateTarget(
  metrics: readonly V2MetricSpec[] | undefined,
  target: RequestRateTarget,
): V2MetricSpec[] {
  const { metricName, perPod } = target;
  if (!Number.isInteger(perPod) || perPod < 1) {
    throw new RangeError(`requestRate.perPod must be a whole number ≥ 1, got ${perPod}`);
  }
  const list = metrics ?? [];
  if (!list.some((m) => averageValueTarget(m, metricName) !== undefined)) {
    throw new RangeError(
      `spec.metrics has no Pods, Object or External metric ${metricName} with target.type AverageValue to set`,
    );
  }
  const set = <T extends { target: V2MetricTarget }>(source: T): T => ({
    ...source,
    target: { ...source.target, averageValue: String(perPod) },
  });
  return list.map((m) => {
    if (averageValueTarget(m, metricName) === undefined) return m;
    if (m.type === 'Pods' && m.pods) return { ...m, pods: set(m.pods) };
    if (m.type === 'Object' && m.object) return { ...m, object: set(m.object) };
    if (m.type === 'External' && m.external) return { ...m, external: set(m.external) };
    return m;
  });
}

/** The HPA's `spec.metrics` with the given targets set, or undefined when `fields` sets none. */
function metricsWithTargets(
  metrics: readonly V2MetricSpec[] | undefined,
  fields: HpaFields,
): V2MetricSpec[] | undefined {
  if (fields.cpuUtilizationPercent === undefined && fields.requestRate === undefined) return undefined;
  const withCpu =
    fields.cpuUtilizationPercent === undefined
      ? metrics
      : metricsWithCpuTarget(metrics, fields.cpuUtilizationPercent);
  return fields.requestRate === undefined
    ? [...(withCpu ?? [])]
    : metricsWithRateTarget(withCpu, fields.requestRate);
}

/** Whether `perfpilot` owns the HPA's `spec.metrics` by an earlier apply. */
function ownsMetrics(live: V2HorizontalPodAutoscaler): boolean {
  const bare = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: {}, spec: {} };
  return strayOwnedFields(live as Parameters<typeof strayOwnedFields>[0], bare, FIELD_MANAGER).some(
    (field) => field === '.spec.metrics' || field.startsWith('.spec.metrics.'),
  );
}

/**
 * hpaApplyBody is the server-side apply body for an HPA: the bounds, and with a target the whole
 * `spec.metrics` list as read with the targets set (an atomic list: an apply owns all of it or none).
 * Without a target, a list `perfpilot` applied before (the profile tuned the target, then stopped)
 * is carried as read, so the apply neither drops it nor changes it.
 */
export function hpaApplyBody(
  live: V2HorizontalPodAutoscaler,
  hpa: { readonly namespace: string; readonly name: string },
  fields: HpaFields,
  record?: string,
): V2HorizontalPodAutoscaler {
  const metrics = metricsWithTargets(live.spec?.metrics, fields);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: hpa.name,
      namespace: hpa.namespace,
      ...recordMetadata(live as Parameters<typeof recordMetadata>[0], record),
    },
    spec: {
      minReplicas: fields.minReplicas,
      maxReplicas: fields.maxReplicas,
      ...(metrics !== undefined
        ? { metrics }
        : live.spec?.metrics && ownsMetrics(live)
          ? { metrics: live.spec.metrics }
          : {}),
    } as V2HorizontalPodAutoscaler['spec'],
  };
}

/** Names one namespaced object. */
export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

/** What applyReplicaBounds did. `before` is what the HPA held when read. */
export type ReplicaBoundsResult =
  | { readonly kind: 'unchanged'; readonly object: string; readonly before: HpaFields }
  | {
      readonly kind: 'applied';
      readonly object: string;
      readonly before: HpaFields;
      readonly after: HpaFields;
    }
  | {
      readonly kind: 'conflict';
      readonly object: string;
      readonly before: HpaFields;
      readonly conflicts: readonly FieldConflict[];
      readonly message: string;
    }
  | { readonly kind: 'notFound'; readonly object: string };

/** validateReplicaBounds throws a RangeError naming the bound when `bounds` cannot be an HPA's. */
export function validateReplicaBounds(bounds: ReplicaBounds): void {
  const { minReplicas, maxReplicas } = bounds;
  if (!Number.isInteger(minReplicas) || minReplicas < 1) {
    throw new RangeError(`minReplicas must be a whole number ≥ 1, got ${minReplicas}`);
  }
  if (!Number.isInteger(maxReplicas) || maxReplicas < minReplicas) {
    throw new RangeError(
      `maxReplicas must be a whole number ≥ minReplicas (${minReplicas}), got ${maxReplicas}`,
    );
  }
}

/**
 * applyReplicaBounds sets the HPA's minReplicas and maxReplicas, and its CPU target when
 * `bounds.cpuUtilizationPercent` is given, its request-rate target when `bounds.requestRate` is. It reads the HPA first: a missing HPA is `notFound` (an
 * apply would try to create one), equal values are `unchanged` (nothing written). A field owned by
 * another manager with another value is `conflict`, and the HPA is left as it was.
 */
export async function applyReplicaBounds(
  ctx: Pick<ActuatorContext, 'clients'>,
  hpa: ObjectRef,
  bounds: HpaFields,
  options: ApplyOptions = {},
): Promise<ReplicaBoundsResult> {
  validateReplicaBounds(bounds);
  const object = `HorizontalPodAutoscaler ${hpa.namespace}/${hpa.name}`;
  const current = await readIfExists(() =>
    ctx.clients.autoscaling.readNamespacedHorizontalPodAutoscaler(hpa),
  );
  if (!current) return { kind: 'notFound', object };
  // An HPA without minReplicas scales down to 1, the API's documented default.
  const cpu = cpuUtilizationTargetOf(current);
  const rateName = bounds.requestRate?.metricName;
  const rate = rateName === undefined ? undefined : requestRateTargetOf(current, rateName);
  const before: HpaFields = {
    minReplicas: current.spec?.minReplicas ?? 1,
    maxReplicas: current.spec?.maxReplicas ?? 0,
    ...(cpu !== undefined ? { cpuUtilizationPercent: cpu } : {}),
    ...(rateName !== undefined && rate !== undefined
      ? { requestRate: { metricName: rateName, perPod: rate } }
      : {}),
  };
  const keda = scaledObjectOwnerOf(current);
  if (keda !== undefined) {
    // KEDA would write its own bounds back at once: they are tuned on the ScaledObject.
    return {
      kind: 'conflict',
      object,
      before,
      conflicts: [
        { manager: `${SCALED_OBJECT_KIND} ${keda}`, field: '.spec.minReplicas, .spec.maxReplicas' },
      ],
      message: `owned by KEDA ${SCALED_OBJECT_KIND} ${keda}: its minReplicaCount and maxReplicaCount are the bounds, and the HPA is not written`,
    };
  }
  if (
    before.minReplicas === bounds.minReplicas &&
    before.maxReplicas === bounds.maxReplicas &&
    (bounds.cpuUtilizationPercent === undefined ||
      bounds.cpuUtilizationPercent === before.cpuUtilizationPercent) &&
    (bounds.requestRate === undefined || bounds.requestRate.perPod === before.requestRate?.perPod)
  ) {
    return { kind: 'unchanged', object, before };
  }
  const result = await applyFields(
    ctx.clients,
    hpaApplyBody(current, hpa, bounds, options.record) as Parameters<typeof applyFields>[1],
    { ...options, live: current as Parameters<typeof applyFields>[1] },
  );
  if (result.kind === 'conflict') return { ...result, before };
  return { kind: 'applied', object, before, after: { ...bounds } };
}
