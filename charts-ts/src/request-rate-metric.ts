/**
 * The request-rate metric the API's HPA scales on, and the prometheus-adapter rule that serves
 * it from the API's request histogram. The toolkit's HPA, its README and the test cluster's
 * adapter all take the names and the rule from here, so they cannot drift apart.
 */

/** requestRateMetricName is the metric the HPA reads through the custom or external metrics API. */
export const requestRateMetricName = 'requests_per_second';

/** requestRateSeries is the Prometheus series it is computed from: the API's request count. */
export const requestRateSeries = 'http_request_duration_seconds_count';

/**
 * RequestRateMetricType is how the HPA reads the rate:
 * - `Pods`: a per-Pod series (`pod` label), averaged over the Pods; needs Pods that serve traffic.
 * - `External`: the namespace's total rate with an `AverageValue` target, so
 *   desired replicas = ceil(total rate / target); works where no Pod process serves traffic
 *   (the test cluster's Pods are kwok objects) and with a load balancer's own request count.
 */
export type RequestRateMetricType = 'Pods' | 'External';

/** requestRateMetricTypes lists the accepted RequestRateMetricType values. */
export const requestRateMetricTypes: readonly RequestRateMetricType[] = ['Pods', 'External'];

/** One prometheus-adapter discovery rule (its config file's `rules` or `externalRules` entry). */
export interface PrometheusAdapterRule {
  readonly seriesQuery: string;
  readonly resources: { readonly overrides: Record<string, { readonly resource: string }> };
  readonly name: { readonly matches: string; readonly as: string };
  readonly metricsQuery: string;
}

/**
 * prometheusAdapterConfig is a prometheus-adapter configuration serving `requests_per_second` in
 * the shape the HPA reads: `rules` (custom metrics API, per Pod) or `externalRules`.
 */
export function prometheusAdapterConfig(
  type: RequestRateMetricType,
  rateWindowSeconds = 120,
): { rules?: PrometheusAdapterRule[]; externalRules?: PrometheusAdapterRule[] } {
  if (!Number.isInteger(rateWindowSeconds) || rateWindowSeconds < 1) {
    throw new RangeError(`rateWindowSeconds must be a positive integer, got ${rateWindowSeconds}`);
  }
  const perPod = type === 'Pods';
  const overrides: Record<string, { resource: string }> = { namespace: { resource: 'namespace' } };
  if (perPod) overrides.pod = { resource: 'pod' };
  const rule: PrometheusAdapterRule = {
    seriesQuery: `${requestRateSeries}{namespace!=""${perPod ? ',pod!=""' : ''}}`,
    resources: { overrides },
    name: { matches: `^${requestRateSeries}$`, as: requestRateMetricName },
    metricsQuery: `sum(rate(<<.Series>>{<<.LabelMatchers>>}[${rateWindowSeconds}s])) by (<<.GroupBy>>)`,
  };
  return perPod ? { rules: [rule] } : { externalRules: [rule] };
}
