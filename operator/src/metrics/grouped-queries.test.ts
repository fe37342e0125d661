import { describe, expect, it } from 'vitest';
import { overPods, SharedAnswers, seriesOf } from './grouped-queries.ts';
import type { PrometheusClient, QueryData } from './prometheus-client.ts';
import { type Reading, readInstantValue } from './prometheus-result.ts';

const shop = { namespace: 'shop', job: 'risk-api' };
const series = (labels: Record<string, string>, value: string) => ({ metric: labels, value: [1000, value] });
const vector = (...result: unknown[]): QueryData => ({ resultType: 'vector', result });

/** A reading is the expected value, or unknown for the expected reason. */
function expectReading(reading: Reading, expected: { value: number } | { reason: string }): void {
  if ('value' in expected) expect(reading).toEqual(expected);
  else expect('unknown' in reading && reading.unknown.reason).toBe(expected.reason);
}

describe('seriesOf and the reading of one profile’s part', () => {
  it.each<[string, QueryData, { value: number } | { reason: string }]>([
    ['its one series', vector(series(shop, '4'), series({ ...shop, job: 'other' }, '9')), { value: 4 }],
    [
      'no series of it: empty, never zero',
      vector(series({ ...shop, namespace: 'bank' }, '9')),
      { reason: 'empty' },
    ],
    ['an empty answer', vector(), { reason: 'empty' }],
    [
      'two series of it: several series',
      vector(series({ ...shop, le: '1' }, '1'), series({ ...shop, le: '2' }, '2')),
      { reason: 'multiple_series' },
    ],
    ['NaN stays NaN', vector(series(shop, 'NaN'), series({ ...shop, job: 'other' }, '1')), { reason: 'nan' }],
    ['+Inf stays infinite', vector(series(shop, '+Inf')), { reason: 'infinite' }],
    ['a series without the labels is nobody’s', vector(series({}, '3')), { reason: 'empty' }],
    ['a scalar is left as it is', { resultType: 'scalar', result: [1000, '2'] }, { value: 2 }],
    ['another shape is still unparsable', { resultType: 'matrix', result: [] }, { reason: 'unparsable' }],
  ])('%s', (_what, data, expected) => {
    expectReading(readInstantValue('requestsPerSecond', seriesOf(data, shop)), expected);
  });
});

describe('overPods', () => {
  const pod = (namespace: string, name: string, value: string) => series({ namespace, pod: name }, value);
  it.each<[string, QueryData, 'sum' | 'max', { value: number } | { reason: string }]>([
    [
      'sums the profile’s pods only',
      vector(pod('shop', 'risk-api-1', '1'), pod('shop', 'risk-api-2', '2'), pod('bank', 'risk-api-3', '4')),
      'sum',
      { value: 3 },
    ],
    [
      'a pod named as the prefix alone is not its',
      vector(pod('shop', 'risk-api-', '1')),
      'sum',
      { reason: 'empty' },
    ],
    [
      'another deployment’s pods are not its',
      vector(pod('shop', 'other-api-1', '1')),
      'sum',
      { reason: 'empty' },
    ],
    [
      'the newest of its pods',
      vector(pod('shop', 'risk-api-1', '5'), pod('shop', 'risk-api-2', '7')),
      'max',
      { value: 7 },
    ],
    ['no series: empty, never zero', vector(), 'sum', { reason: 'empty' }],
    ['another shape', { resultType: 'scalar', result: [1, '1'] }, 'sum', { reason: 'unparsable' }],
  ])('%s', (_what, data, fold, expected) => {
    expectReading(overPods('cpuUtilizationPercent', data, 'shop', '^(?:risk-api-.+)$', fold), expected);
  });

  it('keeps NaN for the caller to judge', () => {
    const reading = overPods(
      'cpuUtilizationPercent',
      vector(pod('shop', 'risk-api-1', 'NaN')),
      'shop',
      '^(?:risk-api-.+)$',
      'sum',
    );
    expect('value' in reading && Number.isNaN(reading.value)).toBe(true);
  });
});

/** A client that counts what it is asked and answers from `answer` (pure logic: no I/O here). */
function countingClient(
  identity: string,
  answer: (promql: string) => Promise<QueryData> = async () => vector(),
) {
  const asked: string[] = [];
  const client = {
    identity,
    query: (promql: string) => {
      asked.push(promql);
      return answer(promql);
    },
  } as unknown as PrometheusClient;
  return { client, asked };
}

/** One ask of {@link SharedAnswers}: which Prometheus, what query, at what time, in which interval. */
type Ask = [identity: string, promql: string, time: number, window: number];
/** The ask the "another …" cases change one field of. */
const FIRST: Ask = ['a', 'q', 100, 10];

describe('SharedAnswers', () => {
  it.each<[string, Ask[], number]>([
    ['one query, one bucket, many profiles', [FIRST, ['a', 'q', 101, 10], ['a', 'q', 109.9, 10]], 1],
    [
      'the next bucket asks again',
      [
        ['a', 'q', 109, 10],
        ['a', 'q', 110, 10],
      ],
      2,
    ],
    ['another query text', [FIRST, ['a', 'r', 100, 10]], 2],
    ['another Prometheus or credentials', [FIRST, ['b', 'q', 100, 10]], 2],
    ['another evaluation interval', [FIRST, ['a', 'q', 100, 30]], 2],
  ])('%s', async (_what, asks, sent) => {
    const answers = new SharedAnswers();
    const clients = new Map<string, ReturnType<typeof countingClient>>();
    await Promise.all(
      asks.map(([identity, promql, time, window]) => {
        const c = clients.get(identity) ?? countingClient(identity);
        clients.set(identity, c);
        return answers.ask(c.client, promql, time, window);
      }),
    );
    expect([...clients.values()].reduce((n, c) => n + c.asked.length, 0)).toBe(sent);
    expect(answers.sent).toBe(sent);
  });

  it('has concurrent askers wait on one request, and forgets a failure once it settled', async () => {
    let fail = true;
    const { client, asked } = countingClient('a', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail) throw new Error('Prometheus at http://p is unreachable: ECONNREFUSED');
      return vector();
    });
    const answers = new SharedAnswers();
    const both = await Promise.allSettled([
      answers.ask(client, 'q', 100, 10),
      answers.ask(client, 'q', 100, 10),
    ]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(asked).toHaveLength(1);
    fail = false;
    await expect(answers.ask(client, 'q', 101, 10)).resolves.toEqual(vector());
    expect(asked).toHaveLength(2);
  });

  it('drops the answers of a bucket that has ended', async () => {
    const { client } = countingClient('a');
    const answers = new SharedAnswers();
    await answers.ask(client, 'q1', 100, 10);
    await answers.ask(client, 'q2', 105, 30);
    expect(answers.size).toBe(2);
    await answers.ask(client, 'q3', 110, 10);
    expect(answers.size).toBe(2); // q1's bucket [100, 110) ended; q2's [90, 120) has not
  });

  it('keeps at most its limit of answers, the oldest dropped first', async () => {
    const { client, asked } = countingClient('a');
    const answers = new SharedAnswers(2);
    for (const q of ['q1', 'q2', 'q3']) await answers.ask(client, q, 100, 10);
    expect(answers.size).toBe(2);
    await answers.ask(client, 'q3', 100, 10);
    await answers.ask(client, 'q1', 100, 10);
    expect(asked).toEqual(['q1', 'q2', 'q3', 'q1']);
  });
});
