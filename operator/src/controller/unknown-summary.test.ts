import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { UnknownReason, type UnknownSignal } from '../metrics/index.ts';
import { LIVE_SIGNALS } from '../metrics/signals.ts';
import { MAX_CONDITION_MESSAGE } from './conditions.ts';
import { classifyUnknown, summarizeUnknown, type UnknownCause } from './unknown-summary.ts';

const URL = 'http://prometheus-operated.monitoring.svc:9090';
/** The ten signals measured at every evaluation. */
const SIGNALS = LIVE_SIGNALS;
const NODES = [0, 1, 2, 3, 4, 5].map((i) => `redis-cluster-${i}.redis-cluster-headless.shop.svc:6379`);

/** An unknown signal as the metric sources write it: the message starts with the signal's name. */
const u = (signal: string, reason: UnknownReason, detail: string): UnknownSignal => ({
  signal,
  reason,
  message: `${signal}: ${detail}`,
});
const prometheusDown = (signal: string, error = 'is unreachable: ENOTFOUND') =>
  u(signal, UnknownReason.Unanswered, `Prometheus at ${URL} ${error}`);
const nodeDown = (address: string, error: string) =>
  u(`redis ${address}`, UnknownReason.Unanswered, `unreachable: ${address}: ${error}`);

describe('classifyUnknown', () => {
  it.each<[string, UnknownSignal, UnknownCause]>([
    [
      'Prometheus name not resolved',
      prometheusDown('p95LatencyMs'),
      { source: 'prometheus', kind: 'unreachable', detail: 'ENOTFOUND', url: URL },
    ],
    [
      'Prometheus refusing connections',
      prometheusDown('p95LatencyMs', 'is unreachable: ECONNREFUSED'),
      { source: 'prometheus', kind: 'unreachable', detail: 'ECONNREFUSED', url: URL },
    ],
    [
      'Prometheus unreachable without a code',
      prometheusDown('p95LatencyMs', 'is unreachable: socket hang up'),
      { source: 'prometheus', kind: 'unreachable', detail: 'socket hang up', url: URL },
    ],
    [
      'Prometheus too slow',
      prometheusDown('p95LatencyMs', 'did not answer within 5000 ms'),
      { source: 'prometheus', kind: 'timeout', detail: '5000 ms', url: URL },
    ],
    [
      'Prometheus behind a proxy answering 503',
      prometheusDown('p95LatencyMs', 'answered HTTP 503: Service Unavailable'),
      { source: 'prometheus', kind: 'http', detail: 'HTTP 503', url: URL },
    ],
    [
      'Prometheus wanting credentials',
      prometheusDown('p95LatencyMs', 'answered HTTP 401: Unauthorized'),
      { source: 'prometheus', kind: 'auth', detail: 'HTTP 401', url: URL },
    ],
    [
      'a URL that is not Prometheus',
      prometheusDown(
        'p95LatencyMs',
        'answered with a body that is not JSON (is this the Prometheus HTTP API?)',
      ),
      { source: 'prometheus', kind: 'not-prometheus', url: URL },
    ],
    [
      'a query Prometheus rejects: the query, not the server',
      prometheusDown(
        'p95LatencyMs',
        'rejected "sum(rate(x[5m]) \\"a\\": HTTP 400": HTTP 400, bad_data: 1:13: parse error',
      ),
      { source: 'prometheus', kind: 'rejected', detail: 'bad_data' },
    ],
    [
      'a stale series',
      u('dbActiveConnections', 'stale', 'the newest sample is 97 s old, more than the 30 s staleness bound'),
      { source: 'prometheus', kind: 'stale', detail: '30 s' },
    ],
    [
      'no series',
      u('cacheHitRatePercent', 'empty', 'the query returned no series'),
      { source: 'prometheus', kind: 'empty' },
    ],
    [
      'several series',
      u('dbActiveConnections', 'multiple_series', 'the query returned 2 series where one is expected'),
      { source: 'prometheus', kind: 'several-series' },
    ],
    ['NaN', u('poolWaitSecondsMean', 'nan', 'the value is NaN'), { source: 'prometheus', kind: 'nan' }],
    [
      'a query needing the pool size',
      u('poolUsagePercent', 'not_queried', 'its query needs $poolCapacity, and the pool size is not known'),
      {
        source: 'prometheus',
        kind: 'not-queried',
        detail: 'its query needs $poolCapacity, and the pool size is not known',
      },
    ],
    [
      'a Redis name not resolved',
      nodeDown(NODES[0] ?? '', `getaddrinfo ENOTFOUND ${NODES[0]}`),
      { source: 'redis', kind: 'unreachable', detail: 'ENOTFOUND', node: NODES[0] ?? '' },
    ],
    [
      'a Redis node down, its last error in parentheses',
      nodeDown('127.0.0.1:7001', 'not connected (connect ECONNREFUSED 127.0.0.1:7001)'),
      { source: 'redis', kind: 'unreachable', detail: 'ECONNREFUSED', node: '127.0.0.1:7001' },
    ],
    [
      'a Redis node down before any error',
      nodeDown('127.0.0.1:7001', 'not connected'),
      { source: 'redis', kind: 'unreachable', detail: 'not connected', node: '127.0.0.1:7001' },
    ],
    [
      'a wrong Redis password',
      u(
        'redis 127.0.0.1:7001',
        'unanswered',
        'INFO failed: 127.0.0.1:7001: WRONGPASS invalid username-password pair or user is disabled.',
      ),
      { source: 'redis', kind: 'auth', detail: 'WRONGPASS', node: '127.0.0.1:7001' },
    ],
    [
      'no Redis password',
      u('redis 127.0.0.1:7001', 'unanswered', 'INFO failed: 127.0.0.1:7001: NOAUTH Authentication required.'),
      { source: 'redis', kind: 'auth', detail: 'NOAUTH', node: '127.0.0.1:7001' },
    ],
    [
      'a wrong password to an old Redis',
      u('redis 127.0.0.1:7001', 'unanswered', 'INFO failed: 127.0.0.1:7001: ERR invalid password'),
      { source: 'redis', kind: 'auth', detail: 'invalid password', node: '127.0.0.1:7001' },
    ],
    [
      'a Redis command timing out',
      u('redis 127.0.0.1:7001', 'unanswered', 'INFO failed: 127.0.0.1:7001: Command timed out'),
      { source: 'redis', kind: 'timeout', node: '127.0.0.1:7001' },
    ],
    [
      'a node the cluster flags',
      u('redis 127.0.0.1:7002', 'unanswered', 'the cluster flags it as failing'),
      { source: 'redis', kind: 'failing', node: '127.0.0.1:7002' },
    ],
    [
      'a node read once',
      u('redis 127.0.0.1:7002', 'not_enough_readings', 'rates need two INFO readings, and there is one'),
      { source: 'redis', kind: 'one-reading', node: '127.0.0.1:7002' },
    ],
    [
      'a cluster without a master',
      u('redis', 'empty', 'no master among 3 nodes read'),
      { source: 'redis', kind: 'empty', detail: 'no master among 3 nodes read' },
    ],
    [
      'the HPA without replicas',
      u('readyReplicas', 'empty', 'the HPA reports no current replicas'),
      { source: 'kubernetes', kind: 'empty', detail: 'the HPA reports no current replicas' },
    ],
    [
      'a reason this table does not know',
      { signal: 'p95LatencyMs', reason: 'brand_new' as UnknownReason, message: 'p95LatencyMs: odd' },
      { source: 'prometheus', kind: 'other', detail: 'brand_new: odd' },
    ],
  ])('%s', (_name, unknown, cause) => {
    expect(classifyUnknown(unknown)).toEqual(cause);
  });
});

describe('summarizeUnknown', () => {
  it.each<[string, UnknownSignal[], number, string]>([
    [
      'Prometheus and every Redis node unreachable: two causes, counted',
      [
        ...SIGNALS.map((s) => prometheusDown(s)),
        ...NODES.map((n) => nodeDown(n, `getaddrinfo ENOTFOUND ${n.split(':')[0]}`)),
      ],
      0,
      `Prometheus at ${URL} unreachable (ENOTFOUND): 10 signals unknown; Redis: 6 of 6 nodes unreachable (ENOTFOUND)`,
    ],
    [
      'Prometheus timing out for a few signals: named',
      SIGNALS.slice(0, 2).map((s) => prometheusDown(s, 'did not answer within 5000 ms')),
      6,
      `Prometheus at ${URL} timed out (5000 ms): requestsPerSecond, p95LatencyMs`,
    ],
    [
      'some signals empty, others stale: the bigger cause first',
      [
        u('cacheHitRatePercent', 'empty', 'the query returned no series'),
        u(
          'dbActiveConnections',
          'stale',
          'the newest sample is 97 s old, more than the 30 s staleness bound',
        ),
        u('poolUsagePercent', 'stale', 'the newest sample is 97 s old, more than the 30 s staleness bound'),
      ],
      6,
      'stale (newest sample over 30 s old): dbActiveConnections, poolUsagePercent; no series: cacheHitRatePercent',
    ],
    [
      'two of six Redis nodes down, one of them twice over',
      [
        nodeDown('127.0.0.1:7001', 'not connected (connect ECONNREFUSED 127.0.0.1:7001)'),
        nodeDown('127.0.0.1:7004', 'connect ECONNREFUSED 127.0.0.1:7004'),
        u('redis 127.0.0.1:7004', 'unanswered', 'INFO failed: 127.0.0.1:7004: connect ECONNREFUSED'),
      ],
      4,
      'Redis: 2 of 6 nodes unreachable (ECONNREFUSED): 127.0.0.1:7001, 127.0.0.1:7004',
    ],
    [
      'mixed: sources as a whole first, then the causes of single queries',
      [
        ...SIGNALS.slice(0, 3).map((s) => prometheusDown(s, 'did not answer within 2000 ms')),
        u('poolWaitSecondsMean', 'nan', 'the value is NaN'),
        u('redis 127.0.0.1:7002', 'unanswered', 'the cluster flags it as failing'),
        u('redis 127.0.0.1:7003', 'unanswered', 'INFO failed: 127.0.0.1:7003: WRONGPASS invalid password'),
        u('readyReplicas', 'empty', 'the HPA reports no current replicas'),
      ],
      4,
      `Prometheus at ${URL} timed out (2000 ms): 3 signals unknown; Redis: 1 of 6 nodes flagged failing by the cluster; Redis: 1 of 6 nodes refused the password (WRONGPASS); +2 more (see Events)`,
    ],
  ])('%s', (_name, unknowns, redisNodesRead, message) => {
    const summary = summarizeUnknown(unknowns, { redisNodesRead });
    expect(summary.message).toBe(message);
    // The Event's text names every signal and node, whatever the condition had room for.
    for (const unknown of unknowns) {
      expect(summary.full).toContain(unknown.signal.replace(/^redis /, ''));
    }
  });

  // Any list of unknown signals (real names and made-up ones, any reason, messages with errors
  // of every kind or none, URLs of any length) gives a message a terminal shows in three lines.
  const reasons = fc.constantFrom(...Object.values(UnknownReason), 'brand_new' as UnknownReason);
  const errors = fc.constantFrom(
    'is unreachable: ENOTFOUND',
    'is unreachable: ECONNREFUSED',
    'did not answer within 5000 ms',
    'answered HTTP 502: Bad Gateway',
    'answered HTTP 403: Forbidden',
    'rejected "up": HTTP 400, bad_data: parse error',
    'the newest sample is 12 s old, more than the 10 s staleness bound',
    'WRONGPASS invalid username-password pair',
    'the cluster flags it as failing',
  );
  const unknownSignal = fc
    .tuple(
      fc.oneof(
        fc.constantFrom(...SIGNALS, 'readyReplicas', 'redis'),
        fc.constantFrom(...NODES).map((n) => `redis ${n}`),
        fc.string({ maxLength: 80, size: 'max' }),
        fc.string({ unit: 'grapheme', maxLength: 40, size: 'max' }),
      ),
      reasons,
      fc.oneof(
        errors.map((e) => `Prometheus at http://${'p'.repeat(20)}.example:9090 ${e}`),
        fc.tuple(fc.webUrl(), errors).map(([url, e]) => `Prometheus at ${url} ${e}`),
        // A URL longer than the whole message may be.
        fc
          .tuple(fc.stringMatching(/^[a-z0-9.-]{200,300}$/), errors)
          .map(([host, e]) => `Prometheus at http://${host}:9090 ${e}`),
        errors,
        fc.string({ maxLength: 400, size: 'max' }),
        fc.string({ unit: 'grapheme', maxLength: 300, size: 'max' }),
      ),
    )
    .map(([signal, reason, detail]) => u(signal, reason, detail));

  test.prop([fc.array(unknownSignal, { maxLength: 40 }), fc.nat({ max: 12 })], { numRuns: 500 })(
    `the message is at most ${MAX_CONDITION_MESSAGE} characters and says something`,
    (unknowns, redisNodesRead) => {
      const { message } = summarizeUnknown(unknowns, { redisNodesRead });
      expect(message.length).toBeLessThanOrEqual(MAX_CONDITION_MESSAGE);
      if (unknowns.length > 0) expect(message.length).toBeGreaterThan(0);
    },
  );
});
