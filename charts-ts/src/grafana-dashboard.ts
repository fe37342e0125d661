import type { V1ConfigMap } from '@kubernetes/client-node';
import { Construct } from 'constructs';
import { OperatorMetric } from '../../operator/src/api/v1alpha1/constants.ts';
import { kubeObject } from './kube-object.ts';
import { appLabels } from './labels.ts';

/** Props of GrafanaDashboard. */
export interface GrafanaDashboardProps {
  /** namespace of the ConfigMap. */
  readonly namespace: string;
  /** apiName is the API's scrape job (its Service name). */
  readonly apiName: string;
  /** slo draws the objectives as thresholds. */
  readonly slo: {
    readonly p95LatencyMs: number;
    readonly errorRatePercent: number;
    readonly cacheHitRatePercent: number;
    readonly poolUsagePercent: number;
  };
  /**
   * name of the ConfigMap.
   * @default 'perfpilot-dashboard'
   */
  readonly name?: string;
}

interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly exprs: readonly { readonly expr: string; readonly legend: string }[];
  readonly threshold?: number;
}

/**
 * GrafanaDashboard is a ConfigMap labelled `grafana_dashboard: "1"` (picked up by Grafana's
 * sidecar) with panels for RPS, p95, error rate, hit rate, pool usage, and the operator's knob
 * values and decisions.
 */
export class GrafanaDashboard extends Construct {
  /** panelTitles lists the panels, for tests and docs. */
  readonly panelTitles: readonly string[];

  constructor(scope: Construct, id: string, props: GrafanaDashboardProps) {
    super(scope, id);
    const ns = props.namespace;
    const api = `namespace="${ns}",job="${props.apiName}"`;
    const name = props.name ?? 'perfpilot-dashboard';
    const rate = (metric: string, extra = '') => `sum(rate(${metric}{${api}${extra}}[5m]))`;
    const panels: Panel[] = [
      {
        title: 'Requests per second',
        unit: 'reqps',
        exprs: [{ expr: rate('http_request_duration_seconds_count'), legend: 'RPS' }],
      },
      {
        title: 'p95 latency',
        unit: 'ms',
        threshold: props.slo.p95LatencyMs,
        exprs: [
          {
            expr: `1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${api}}[5m])))`,
            legend: 'p95',
          },
        ],
      },
      {
        title: 'Error rate',
        unit: 'percent',
        threshold: props.slo.errorRatePercent,
        exprs: [
          {
            expr: `100 * ${rate('http_request_duration_seconds_count', ',status_code=~"5.."')} / ${rate('http_request_duration_seconds_count')}`,
            legend: '5xx %',
          },
        ],
      },
      {
        title: 'Cache hit rate',
        unit: 'percent',
        threshold: props.slo.cacheHitRatePercent,
        exprs: [
          {
            expr: `100 * ${rate('cache_hits_total')} / (${rate('cache_hits_total')} + ${rate('cache_misses_total')})`,
            legend: 'hit %',
          },
        ],
      },
      {
        title: 'DB pool: active connections per pod',
        unit: 'short',
        exprs: [
          { expr: `max by (pod) (database_connections_active{${api}})`, legend: '{{pod}}' },
          {
            expr: `sum(${OperatorMetric.knobValue}{namespace="${ns}",knob=~"poolSize|maxOverflow",kind="current"})`,
            legend: 'pool + overflow',
          },
        ],
      },
      {
        title: 'Knobs: current and recommended',
        unit: 'short',
        exprs: [
          { expr: `${OperatorMetric.knobValue}{namespace="${ns}"}`, legend: '{{profile}} {{knob}} {{kind}}' },
        ],
      },
      {
        title: 'Operator decisions',
        unit: 'short',
        exprs: [
          {
            expr: `sum by (knob, outcome) (increase(${OperatorMetric.decisionsTotal}{namespace="${ns}"}[15m]))`,
            legend: '{{knob}} {{outcome}}',
          },
        ],
      },
      {
        title: 'Redis memory used / maxmemory',
        unit: 'bytes',
        exprs: [
          { expr: `redis_memory_used_bytes{namespace="${ns}"}`, legend: 'used {{pod}}' },
          { expr: `redis_memory_max_bytes{namespace="${ns}"}`, legend: 'maxmemory {{pod}}' },
        ],
      },
    ];
    this.panelTitles = panels.map((p) => p.title);
    const dashboard = {
      title: 'PerfPilot: risk API',
      uid: 'perfpilot-risk-api',
      schemaVersion: 39,
      refresh: '30s',
      time: { from: 'now-6h', to: 'now' },
      tags: ['perfpilot'],
      templating: {
        list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' }],
      },
      panels: panels.map((p, i) => ({
        id: i + 1,
        type: 'timeseries',
        title: p.title,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a JS template
        datasource: { type: 'prometheus', uid: '${datasource}' },
        gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
        fieldConfig: {
          defaults: {
            unit: p.unit,
            ...(p.threshold === undefined
              ? {}
              : {
                  thresholds: {
                    mode: 'absolute',
                    steps: [
                      { color: 'green', value: null },
                      { color: 'red', value: p.threshold },
                    ],
                  },
                  custom: { thresholdsStyle: { mode: 'line' } },
                }),
          },
          overrides: [],
        },
        targets: p.exprs.map((e, j) => ({
          refId: String.fromCharCode(65 + j),
          expr: e.expr,
          legendFormat: e.legend,
        })),
      })),
    };
    kubeObject<V1ConfigMap>(this, 'Resource', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: ns, labels: { ...appLabels(name, 'monitoring'), grafana_dashboard: '1' } },
      data: { 'perfpilot-risk-api.json': `${JSON.stringify(dashboard, null, 2)}\n` },
    });
  }
}
