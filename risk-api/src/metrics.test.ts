import { describe, expect, it } from 'vitest';
import { METRIC, RiskApiMetrics } from './metrics.ts';

const stats = { size: 20, maxOverflow: 30, active: 0, idle: 0, opening: 0, waiting: 0, timeouts: 0 };

describe('RiskApiMetrics', () => {
  it('serves every known cache label value at 0 before the first lookup, so a hit rate has both sides', async () => {
    const metrics = new RiskApiMetrics(
      { poolStats: () => stats, cacheAvailable: () => true, databaseAvailable: () => true },
      { processMetrics: false },
    );
    const text = await metrics.registry.metrics();
    for (const dataType of ['market_data', 'risk_calculations', 'user_sessions', 'static_data', 'default']) {
      expect(text).toContain(`${METRIC.cacheHits}{data_type="${dataType}"} 0`);
      expect(text).toContain(`${METRIC.cacheMisses}{data_type="${dataType}"} 0`);
    }
    expect(text).toContain(`${METRIC.cacheErrors}{operation="get"} 0`);
  });
});
