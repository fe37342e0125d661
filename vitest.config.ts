import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{operator,risk-api,charts-ts,cli,demo,test,bench}/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Integration tests start real API servers and Redis nodes; two cores cannot run many at once.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', ['json', { outputFile: '.testenv/test-results.json' }]],
  },
});
