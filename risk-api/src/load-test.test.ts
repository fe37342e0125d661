import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIX, parseMix, parsePhases } from './load-plan.ts';
import { formatReport, type LoadTestResult, percentile } from './load-report.ts';
import { runLoadTest } from './load-test.ts';

describe('parsePhases', () => {
  it('reads YAML and JSON lists of {duration, rate}', () => {
    expect(parsePhases('- {duration: 10, rate: 100}\n- {duration: 5, rate: 0}\n')).toEqual([
      { durationSeconds: 10, rate: 100 },
      { durationSeconds: 5, rate: 0 },
    ]);
    expect(parsePhases('{"phases": [{"duration": 1, "rate": 5}]}')).toEqual([
      { durationSeconds: 1, rate: 5 },
    ]);
  });

  it.each([
    ['[]', 'phases: expected a list of {duration, rate}'],
    ['- {rate: 1}', 'phases[0].duration must be a whole number of seconds, at least 1'],
    ['- {duration: 1, rate: -5}', 'phases[0].rate must be a whole number of requests per second'],
    ['- {duration: 3000, rate: 1}\n- {duration: 3000, rate: 1}', 'phases: 6000 s in all; at most 3600'],
    ['{', 'phases: not YAML or JSON'],
  ])('rejects %j', (text, message) => {
    expect(() => parsePhases(text)).toThrow(message);
  });
});

describe('parseMix', () => {
  it('sets the weights given and zero for the rest', () => {
    expect(parseMix('market-data=3, health=1')).toEqual({
      health: 1,
      'market-data': 3,
      'price-history': 0,
      data: 0,
      'risk-analysis': 0,
      'batch-risk-analysis': 0,
    });
    expect(Object.keys(DEFAULT_MIX).sort()).toEqual(Object.keys(parseMix('health=1')).sort());
  });

  it.each([
    ['quotes=1', 'mix: unknown endpoint "quotes"'],
    ['health=-1', 'mix: weight of health must be a number ≥ 0'],
    ['health=0', 'mix: every weight is 0'],
  ])('rejects %s', (text, message) => {
    expect(() => parseMix(text)).toThrow(message);
  });
});

describe('percentile', () => {
  it.each([
    [[], 95, 0],
    [[7], 50, 7],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
  ])('%j p%s = %s', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe('formatReport', () => {
  it('prints the seed’s lines and the API’s metrics', () => {
    const latency = { mean: 245.4, p50: 200, p95: 450.2, p99: 600 };
    const result: LoadTestResult = {
      url: 'http://127.0.0.1:8001',
      durationSeconds: 10,
      connections: 4,
      phases: [{ durationSeconds: 10, rate: 100 }],
      requests: 1000,
      rps: 100,
      errors: 2,
      errorPercent: 0.2,
      latencyMs: latency,
      latencyFromSendMs: latency,
      endpoints: [
        {
          endpoint: '/health',
          requests: 500,
          rps: 2450.5,
          errors: 0,
          errorPercent: 0,
          statusCounts: { 200: 500 },
          latencyMs: latency,
          latencyFromSendMs: latency,
          latencyFromSendByCacheMs: { hit: null, miss: null },
        },
        {
          endpoint: '/api/v1/risk-analysis',
          requests: 500,
          rps: 145.2,
          errors: 2,
          errorPercent: 0.2,
          statusCounts: { 200: 498, 503: 2 },
          latencyMs: latency,
          latencyFromSendMs: latency,
          latencyFromSendByCacheMs: { hit: null, miss: null },
        },
      ],
      api: {
        cacheHits: 852,
        cacheMisses: 148,
        cacheHitRatePercent: 85.2,
        poolCapacity: 50,
        poolActivePeak: 12,
        poolUsagePeakPercent: 24,
        poolUsageMeanPercent: 8,
        poolWaitMeanMs: 0.12,
      },
      sendLagMs: { p99: 0.8, max: 3.1 },
    };
    const text = formatReport(result);
    expect(text).toContain(
      '  /health: 2,450.5 RPS, 0.0% errors\n  /api/v1/risk-analysis: 145.2 RPS, 0.2% errors',
    );
    expect(text).toContain('  Average Response Time: 245ms\n  95th Percentile: 450ms');
    expect(text).toContain('Cache Hit Rate: 85.2% (852 hits, 148 misses)');
    expect(text).toContain('Connection Pool Usage: peak 12 of 50 (24.0%), mean 8.0%');
    expect(text).toContain('200×498 503×2');
    expect(formatReport({ ...result, api: null })).toContain('/metrics not readable');
    expect(text).not.toContain('late');
    const late = formatReport({
      ...result,
      sendLagMs: { p99: 12.5, max: 40 },
      latencyFromSendMs: { mean: 230, p50: 190, p95: 440, p99: 590 },
    });
    expect(late).toContain(
      'Warning: the load generator sent its requests up to 12.5 ms late (p99; max 40.0 ms):',
    );
    expect(late).toContain(
      "Counted from each request's send instead: p50 190.0 ms, p95 440.0 ms, p99 590.0 ms.",
    );
  });
});

describe('runLoadTest arrivals', () => {
  /**
   * An HTTP server that notes when each request arrives and answers after `delayMs`, having
   * first kept its process busy for `busyMs`.
   */
  async function recordingServer(delayMs: number, busyMs = 0) {
    const arrivals: number[] = [];
    const server = createServer((request, response) => {
      arrivals.push(performance.now());
      for (const until = performance.now() + busyMs; performance.now() < until; );
      request.resume();
      setTimeout(() => response.end('{}'), delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      arrivals,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it('offers a rate as Poisson arrivals spread over each second, not as a burst at its start', async () => {
    const server = await recordingServer(0);
    try {
      const result = await runLoadTest({
        url: server.url,
        phases: [{ durationSeconds: 4, rate: 50 }],
        connections: 64,
        mix: { health: 1 },
      });
      const first = server.arrivals[0] as number;
      const gaps = server.arrivals.slice(1).map((t, i) => t - (server.arrivals[i] as number));
      const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
      const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
      const inFirstTenth = server.arrivals.filter((t) => (t - first) % 1000 < 100).length;
      // 200 expected in 4 s; a Poisson count's standard deviation is √200 ≈ 14.
      expect(result.requests).toBeGreaterThan(150);
      expect(result.requests).toBeLessThan(250);
      expect(result.errors).toBe(0);
      expect(result.sendLagMs?.max).toBeGreaterThanOrEqual(0);
      // Counted from its due time, a request never took less than from its send (one sent early
      // counts from its send).
      for (const k of ['mean', 'p50', 'p95', 'p99'] as const)
        expect(result.latencyMs[k]).toBeGreaterThanOrEqual(result.latencyFromSendMs[k]);
      // Exponential gaps have a coefficient of variation of 1; a per-second burst has far more.
      expect(sd / mean).toBeGreaterThan(0.7);
      expect(sd / mean).toBeLessThan(1.4);
      // About a tenth of the arrivals fall in each second's first 100 ms (all of them in a burst).
      expect(inFirstTenth / server.arrivals.length).toBeLessThan(0.25);
    } finally {
      await server.close();
    }
  });

  it('counts the wait for a free connection in the latency, from when the request was due', async () => {
    const server = await recordingServer(100);
    try {
      // One connection, 20 requests a second, 100 ms each: twice what it can carry, so requests
      // queue behind each other; timed from the server's arrival, each would take 100 ms. The
      // wait is the generator's connection, not its lag, so it counts from the send too.
      const result = await runLoadTest({
        url: server.url,
        phases: [{ durationSeconds: 1, rate: 20 }],
        connections: 1,
        mix: { health: 1 },
      });
      expect(result.latencyMs.p95).toBeGreaterThan(600);
      expect(result.latencyFromSendMs.p95).toBeGreaterThan(600);
    } finally {
      await server.close();
    }
  });

  it('reports latency from the send without the lag of a generator whose process is busy', async () => {
    // The server runs in the generator's process and holds it for 30 ms per request: arrivals
    // due meanwhile go out late, by 9 ms on average at 20 a second (60 % of the time busy).
    const server = await recordingServer(0, 30);
    try {
      const result = await runLoadTest({
        url: server.url,
        phases: [{ durationSeconds: 2, rate: 20 }],
        connections: 8,
        mix: { health: 1 },
      });
      expect(result.sendLagMs?.max).toBeGreaterThan(10);
      expect(result.latencyFromSendMs.p50).toBeGreaterThanOrEqual(30);
      expect(result.latencyMs.mean - result.latencyFromSendMs.mean).toBeGreaterThan(3);
    } finally {
      await server.close();
    }
  });

  it('counts a refused connection as a failed request and ends the phase on time', async () => {
    const server = await recordingServer(0);
    await server.close();
    const started = performance.now();
    const result = await runLoadTest({
      url: server.url,
      phases: [{ durationSeconds: 1, rate: 20 }],
      connections: 4,
      mix: { health: 1 },
    });
    expect(result.errors).toBeGreaterThan(5);
    expect(result.errors).toBe(result.requests);
    expect(result.endpoints.map((e) => e.endpoint)).toEqual(['connection errors']);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it.each([
    ['an open loop', 100],
    ['a closed loop', 0],
  ])("splits the latencies of hits and misses by the API's x-cache header, in %s", async (_, rate) => {
    // Every other answer a hit after 5 ms, the rest misses after 40 ms; /health answers unmarked.
    let count = 0;
    const server = createServer((request, response) => {
      request.resume();
      if (request.url === '/health') return void response.end('{}');
      const hit = count++ % 2 === 0;
      setTimeout(
        () => {
          response.setHeader('x-cache', hit ? 'HIT' : 'MISS');
          response.end('{}');
        },
        hit ? 5 : 40,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const result = await runLoadTest({
        url: `http://127.0.0.1:${port}`,
        phases: [{ durationSeconds: 2, rate }],
        connections: 4,
        mix: { data: 3, health: 1 },
      });
      const byRoute = Object.fromEntries(result.endpoints.map((e) => [e.endpoint, e]));
      const data = byRoute['/api/v1/data/:id']?.latencyFromSendByCacheMs;
      const { hit, miss } = data ?? { hit: null, miss: null };
      expect(hit?.answers).toBeGreaterThan(10);
      // Alternating answers, less those still in flight on the 4 connections when the phase ended.
      expect(hit && miss && Math.abs(hit.answers - miss.answers)).toBeLessThanOrEqual(4);
      expect(hit?.p95).toBeGreaterThanOrEqual(5);
      expect(hit?.p95).toBeLessThan(30);
      expect(miss?.p95).toBeGreaterThanOrEqual(40);
      expect(byRoute['/health']?.latencyFromSendByCacheMs).toEqual({ hit: null, miss: null });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
