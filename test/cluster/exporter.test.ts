import { afterEach, describe, expect, it } from 'vitest';
import {
  CPU_USAGE_SERIES,
  drivePodCpu,
  driveRiskApiSeries,
  RESOURCE_REQUESTS_SERIES,
  startTestExporter,
  type TestExporter,
} from './exporter.ts';
import { resourceRules } from './metrics-adapter.ts';

let exporter: TestExporter | undefined;
afterEach(async () => {
  await exporter?.stop();
  exporter = undefined;
});

/** The value of each series of `name` by its pod label. */
async function byPod(e: TestExporter, name: string): Promise<Record<string, number>> {
  const metric = (await e.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return Object.fromEntries(
    (metric?.values ?? []).map((v) => [String(v.labels.pod), Number(v.value)] as const),
  );
}

describe('drivePodCpu', () => {
  it('shares the cores among the pods set, and drops the series of pods no longer set', async () => {
    exporter = await startTestExporter();
    const cpu = drivePodCpu(exporter, { cores: 3 });
    try {
      cpu.setPods(['api-1', 'api-2', 'api-3']);
      await new Promise((r) => setTimeout(r, 1000));
      const first = await byPod(exporter, CPU_USAGE_SERIES);
      expect(Object.keys(first).sort()).toEqual(['api-1', 'api-2', 'api-3']);
      // One core each for about a second (ticks follow the clock).
      for (const seconds of Object.values(first)) expect(seconds).toBeGreaterThan(0.7);
      expect(await byPod(exporter, RESOURCE_REQUESTS_SERIES)).toEqual({ 'api-1': 1, 'api-2': 1, 'api-3': 1 });
      cpu.setPods(['api-1', 'api-2']);
      await new Promise((r) => setTimeout(r, 1000));
      const second = await byPod(exporter, CPU_USAGE_SERIES);
      expect(Object.keys(second).sort()).toEqual(['api-1', 'api-2']);
      expect(Object.keys(await byPod(exporter, RESOURCE_REQUESTS_SERIES)).sort()).toEqual(['api-1', 'api-2']);
      // 1.5 cores each once a pod has gone.
      expect((second['api-1'] ?? 0) - (first['api-1'] ?? 0)).toBeGreaterThan(1.1);
    } finally {
      cpu.stop();
    }
  });

  it('leaves the CPU series to it when the risk API series are told not to serve them', async () => {
    exporter = await startTestExporter();
    const traffic = driveRiskApiSeries(exporter, 'api', { podCpuSeries: false });
    try {
      const text = await exporter.registry.metrics();
      expect(text).not.toContain(CPU_USAGE_SERIES);
      expect(text).not.toContain(RESOURCE_REQUESTS_SERIES);
      expect(text).toContain('database_connections_active');
    } finally {
      traffic.stop();
    }
  });
});

describe('resourceRules', () => {
  it.each([
    [
      'cpu',
      'sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,container!=""}[30s])) by (<<.GroupBy>>)',
    ],
    ['memory', 'sum(container_memory_working_set_bytes{<<.LabelMatchers>>,container!=""}) by (<<.GroupBy>>)'],
  ] as const)('serves %s per pod and container from cAdvisor’s series', (resource, query) => {
    const rules = resourceRules(30);
    expect(rules[resource].containerQuery).toBe(query);
    expect(rules[resource].containerLabel).toBe('container');
    expect(rules.window).toBe('30s');
  });

  it.each([0, 1.5, -10])('refuses a window of %s seconds, naming the field', (window) => {
    expect(() => resourceRules(window)).toThrow(/resourceMetrics\.windowSeconds must be a positive integer/);
  });
});
