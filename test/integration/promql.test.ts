/**
 * The toolkit's PromQL, checked for real: the PrometheusRule that `perfpilot synth` writes passes
 * `promtool check rules` and every rule evaluates healthily in a real Prometheus; every query of
 * the Grafana dashboard and every default query of the profile runs there without error, every
 * recording rule records a series, every dashboard query shows data, and the profile's defaults
 * each find exactly one series among the seed's metric names. A typo in any of them fails here:
 * a misspelt metric is no error in PromQL, only an empty answer.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { DEFAULT_PROMQL, SIGNALS, type Signal } from '../../operator/src/api/v1alpha1/default-promql.ts';
import { signalQuery } from '../../operator/src/metrics/signals.ts';
import { createOperatorMetrics } from '../../operator/src/telemetry/metrics.ts';
import { driveRiskApiSeries, startTestExporter, type TestExporter } from '../cluster/exporter.ts';
import { checkRules, type PrometheusServer, startPrometheus } from '../cluster/prometheus.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { groups?: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[] };
  data?: Record<string, string>;
}

function manifests(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(join(root, 'manifests', file), 'utf8')).map(
    (d) => d.toJSON() as KubeObject,
  );
}

// The PrometheusRule has its own kustomization (it needs the Prometheus Operator's CRDs); the
// dashboard's ConfigMap is applied with the stack.
const monitoring = [...manifests('monitoring/monitoring.yaml'), ...manifests('grafana-dashboard.yaml')];
// The stack's rules and the operator's own alerts (OperatorAlerts, also in the release bundle).
const groups = monitoring.filter((o) => o.kind === 'PrometheusRule').flatMap((r) => r.spec?.groups ?? []);
const ruleFile = stringify({ groups });
const dashboardMap = monitoring.find(
  (o) => o.kind === 'ConfigMap' && o.metadata.name === 'perfpilot-dashboard',
);
const dashboard = JSON.parse(Object.values(dashboardMap?.data ?? {})[0] ?? '{}') as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const dashboardQueries = dashboard.panels.flatMap((p) => p.targets.map((t) => [p.title, t.expr] as const));
const profile = manifests('performance-profile.yaml').find((o) => o.kind === 'PerformanceProfile');
const NAMESPACE = profile?.metadata.namespace ?? 'perfpilot';
const API = 'risk-api';

describe('the toolkit’s PromQL on a real Prometheus', () => {
  let exporter: TestExporter;
  let operatorExporter: TestExporter;
  let prometheus: PrometheusServer;
  let stopTraffic: () => void;

  beforeAll(async () => {
    exporter = await startTestExporter();
    // The operator's own series (the knob and decision panels), from its real metric definitions;
    // scraped without a target namespace, so each series keeps its profile's namespace label.
    operatorExporter = await startTestExporter();
    const operatorMetrics = createOperatorMetrics(operatorExporter.registry);
    for (const [knob, value] of [
      ['poolSize', 20],
      ['maxOverflow', 30],
    ] as const) {
      for (const kind of ['current', 'recommended']) {
        operatorMetrics.knobValue.set({ namespace: NAMESPACE, profile: API, knob, kind }, value);
      }
    }
    operatorMetrics.decisionsTotal.inc({
      namespace: NAMESPACE,
      profile: API,
      knob: 'poolSize',
      outcome: 'Applied',
    });
    prometheus = await startPrometheus({
      scrapeTargets: [
        { address: exporter.address, job: API, labels: { namespace: NAMESPACE } },
        { address: operatorExporter.address, job: 'perfpilot-operator' },
      ],
      ruleFiles: [ruleFile],
    });
    stopTraffic = driveRiskApiSeries(exporter, API).stop;
    // An increase() needs two scrapes of the counter.
    await prometheus.waitForSeries('increase(perfpilot_decisions_total[15m])');
    await prometheus.waitForSeries(`rate(database_pool_wait_seconds_count{job="${API}"}[5m]) > 0`);
    await prometheus.waitForSeries(`rate(container_cpu_usage_seconds_total{job="${API}"}[2m]) > 0`);
  });
  afterAll(async () => {
    stopTraffic?.();
    await prometheus?.stop();
    await exporter?.stop();
    await operatorExporter?.stop();
  });

  it('has the rule groups the toolkit writes', () => {
    expect(groups.map((g) => g.name)).toEqual([
      'perfpilot.operator',
      'perfpilot.thresholds',
      'perfpilot.redis',
      'perfpilot.slo-recordings',
      'perfpilot.slo-burn-rate',
    ]);
  });

  it('passes promtool check rules', async () => {
    const rules = groups.reduce((n, g) => n + g.rules.length, 0);
    expect(await checkRules(ruleFile)).toContain(`SUCCESS: ${rules} rules found`);
  });

  it('evaluates every rule in Prometheus without an error', async () => {
    const response = await fetch(`${prometheus.url}/api/v1/rules`);
    const body = (await response.json()) as {
      data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const loaded = body.data.groups.flatMap((g) => g.rules);
    expect(loaded).toHaveLength(groups.reduce((n, g) => n + g.rules.length, 0));
    // Wait for one evaluation of every group (each rule then has a health other than unknown); the
    // SLO recordings run every 30 s, and a group's first evaluation may come a whole interval late.
    const deadline = Date.now() + 45_000;
    let rules = loaded;
    while (rules.some((r) => r.health === 'unknown') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const next = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as typeof body;
      rules = next.data.groups.flatMap((g) => g.rules);
    }
    expect(
      rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`),
    ).toEqual([]);
  });

  it.each(groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))))(
    'recording rule %s records a series from the test data',
    async (record) => {
      // The SLO recordings are evaluated every 30 s; the first may come a whole interval late.
      await prometheus.waitForSeries(record, 45_000);
    },
  );

  it.each(dashboardQueries)('dashboard panel “%s” shows the test data: %s', async (_title, expr) => {
    const data = await prometheus.query(expr);
    expect(data.resultType).toBe('vector');
    expect(data.result.length, 'series in the answer').toBeGreaterThan(0);
  });

  const vars = { namespace: NAMESPACE, deployment: API, poolCapacity: 50 };
  it.each(SIGNALS.map((s) => [s, DEFAULT_PROMQL[s]] as const))(
    'the profile’s default %s query finds exactly one series of the seed’s names: %s',
    async (signal: Signal) => {
      const built = signalQuery(undefined, signal, vars);
      if (!('query' in built)) throw new Error(built.problem);
      const data = await prometheus.query(built.query);
      expect(data.resultType).toBe('vector');
      expect(data.result).toHaveLength(1);
      const value = Number((data.result[0] as { value: [number, string] }).value[1]);
      expect(Number.isFinite(value) && value >= 0, `${signal} = ${value}`).toBe(true);
      if (built.ageQuery) {
        const age = await prometheus.query(built.ageQuery);
        expect(age.result, `${signal} age query`).toHaveLength(1);
        expect(Number((age.result[0] as { value: [number, string] }).value[1])).toBeLessThan(30);
      }
    },
  );
});
