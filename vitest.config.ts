import { defineConfig } from 'vitest/config';

/**
 * Files that measure under load (the demo's p95 against the SLO, the latency calibration's points
 * on the real risk API): they run after every other file, one at a time, so that no integration
 * test beside them shares the two cores.
 */
const ALONE = ['test/e2e/demo.test.ts', 'bench/calibration/latency-calibration.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    // Integration tests start real API servers and Redis nodes; two cores cannot run many at once.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', ['json', { outputFile: '.testenv/test-results.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: ['{operator,risk-api,charts-ts,cli,demo,test,bench,scripts}/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...ALONE],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
