import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { GrafanaDashboard } from './grafana-dashboard.ts';
import { defaultValues } from './load-values.ts';
import { StackAlerts, type StackAlertsProps } from './prometheus-rule.ts';
import { ServiceMonitor, type ServiceMonitorProps } from './service-monitor.ts';

const values = defaultValues();
type Rule = {
  alert?: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
};
const alertProps: StackAlertsProps = {
  namespace: 'perfpilot',
  apiName: 'risk-api',
  apiContainer: 'api',
  thresholds: values.alerts,
  slo: values.slo,
  redisMasters: 3,
  poolCapacity: 50,
};

describe('ServiceMonitor', () => {
  const props: ServiceMonitorProps = {
    namespace: 'perfpilot',
    name: 'risk-api',
    selector: { 'app.kubernetes.io/name': 'risk-api' },
    port: 'http',
    intervalSeconds: 10,
  };
  const synth = (overrides: Partial<ServiceMonitorProps> = {}) => {
    const chart = Testing.chart();
    new ServiceMonitor(chart, 'sm', { ...props, ...overrides });
    return Testing.synth(chart);
  };

  it('scrapes one Service port in its own namespace', () => {
    expect(synth()[0]).toMatchObject({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': 'risk-api' } },
        namespaceSelector: { matchNames: ['perfpilot'] },
        endpoints: [{ port: 'http', path: '/metrics', interval: '10s' }],
      },
    });
  });

  it('scrapes a secure server over HTTPS with the scraper’s own token, trusting the CA when given', () => {
    expect(synth({ secure: {} })[0]).toMatchObject({
      spec: {
        endpoints: [
          {
            scheme: 'https',
            bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
            tlsConfig: { insecureSkipVerify: true },
          },
        ],
      },
    });
    const verified = synth({
      secure: { caSecret: 'metrics-cert', serverName: 'op-metrics.perfpilot.svc' },
    })[0];
    expect(verified?.spec.endpoints[0].tlsConfig).toEqual({
      ca: { secret: { name: 'metrics-cert', key: 'ca.crt' } },
      serverName: 'op-metrics.perfpilot.svc',
    });
  });

  it('rejects a scrape interval outside 5-300 s', () => {
    expect(() => synth({ intervalSeconds: 1 })).toThrow(
      'ServiceMonitor: intervalSeconds must be from 5 to 300, got 1',
    );
  });

  it('rejects an empty selector', () => {
    expect(() => synth({ selector: {} })).toThrow(
      'ServiceMonitor: selector must have at least one label, got {} (it would scrape every Service)',
    );
  });
});

describe('StackAlerts', () => {
  const synth = (overrides: Partial<StackAlertsProps> = {}) => {
    const chart = Testing.chart();
    const alerts = new StackAlerts(chart, 'alerts', { ...alertProps, ...overrides });
    return {
      alerts,
      objects: Testing.synth(chart) as { spec: { groups: { rules: Rule[] }[] } }[],
    };
  };

  it('synthesizes one PrometheusRule', () => {
    expect(synth().objects).toMatchSnapshot();
  });

  it('alerts on the seed’s thresholds, Redis health and SLO burn rates', () => {
    expect(synth().alerts.alertNames).toEqual([
      'RiskApiCacheHitRateLow',
      'RedisCommandLatencyHigh',
      'RiskApiDatabasePoolUsageHigh',
      'RiskApiDatabaseQueriesSlow',
      'RiskApiResponseTimeHigh',
      'RiskApiErrorRateHigh',
      'RiskApiCpuHigh',
      'RiskApiMemoryHigh',
      'RedisDown',
      'RedisClusterMasterMissing',
      'RedisMemoryNearMaxmemory',
      'RedisEvictingKeys',
      'RedisRejectingConnections',
      'RiskApiErrorBudgetBurnFast',
      'RiskApiErrorBudgetBurnSlow',
      'RiskApiLatencyBudgetBurnFast',
      'RiskApiLatencyBudgetBurnSlow',
    ]);
  });

  it('gives every alert a severity and a runbook', () => {
    const rules =
      synth()
        .objects[0]?.spec.groups.flatMap((g) => g.rules)
        .filter((r) => r.alert) ?? [];
    for (const rule of rules) {
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.runbook_url, rule.alert).toMatch(/^https:\/\/.+#[a-z]+$/);
    }
  });

  it('links every alert to its own section of the runbooks page', () => {
    const { alerts, objects } = synth();
    const page = 'docs/operations/runbooks.md';
    const headings = readFileSync(join(import.meta.dirname, '../..', page), 'utf8')
      .split('\n')
      .flatMap((line) => /^#{1,6} (.+)$/.exec(line)?.[1] ?? []);
    expect(headings).toEqual(expect.arrayContaining([...alerts.alertNames]));
    const anchors = headings.map(githubAnchor);
    const rules = objects[0]?.spec.groups.flatMap((g) => g.rules).filter((r) => r.alert) ?? [];
    expect(rules.map((r) => r.alert)).toEqual(alerts.alertNames);
    for (const rule of rules) {
      const url = new URL(rule.annotations.runbook_url ?? '');
      expect(url.pathname, rule.alert).toBe(`/perfpilot/perfpilot/blob/main/${page}`);
      expect(anchors, rule.alert).toContain(url.hash.slice(1));
      expect(url.hash, rule.alert).toBe(`#${githubAnchor(rule.alert ?? '')}`);
    }
  });

  it('uses the seed’s thresholds in the expressions', () => {
    const rules = synth().objects[0]?.spec.groups.flatMap((g) => g.rules) ?? [];
    const expr = (name: string) => rules.find((r) => r.alert === name)?.expr as string;
    expect(expr('RiskApiCacheHitRateLow')).toMatch(/< 80$/);
    expect(expr('RiskApiResponseTimeHigh')).toMatch(/> 1000$/);
    expect(expr('RiskApiErrorRateHigh')).toMatch(/> 5$/);
    expect(expr('RiskApiDatabasePoolUsageHigh')).toMatch(/> 85$/);
    expect(expr('RiskApiCpuHigh')).toMatch(/> 80$/);
    expect(expr('RiskApiMemoryHigh')).toMatch(/> 85$/);
    expect(expr('RiskApiErrorBudgetBurnFast')).toContain('perfpilot:api_error_ratio:rate1h > 0.0144');
  });

  it('rejects an error-rate objective of 0', () => {
    expect(() => synth({ slo: { ...values.slo, errorRatePercent: 0 } })).toThrow(
      'StackAlerts: slo.errorRatePercent must be above 0 and below 100, got 0',
    );
  });

  it('rejects a pool capacity below 1', () => {
    expect(() => synth({ poolCapacity: 0 })).toThrow('StackAlerts: poolCapacity must be at least 1, got 0');
  });
});

describe('GrafanaDashboard', () => {
  it('is a ConfigMap for Grafana’s sidecar with the stack’s panels', () => {
    const chart = Testing.chart();
    const dashboard = new GrafanaDashboard(chart, 'd', {
      namespace: 'perfpilot',
      apiName: 'risk-api',
      slo: values.slo,
    });
    const [cm] = Testing.synth(chart) as {
      metadata: { labels: Record<string, string> };
      data: Record<string, string>;
    }[];
    expect(cm?.metadata.labels.grafana_dashboard).toBe('1');
    expect(dashboard.panelTitles).toEqual([
      'Requests per second',
      'p95 latency',
      'Error rate',
      'Cache hit rate',
      'DB pool: active connections per pod',
      'Knobs: current and recommended',
      'Operator decisions',
      'Redis memory used / maxmemory',
    ]);
    const json = JSON.parse(cm?.data['perfpilot-risk-api.json'] ?? '{}');
    expect(json.panels).toHaveLength(8);
  });
});

/** githubAnchor is the fragment GitHub gives a Markdown heading: lower case, punctuation dropped, spaces as hyphens. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}
