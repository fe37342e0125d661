import { describe, expect, it } from 'vitest';
import { judgeSignal, type SignalAnswer, type SignalCase } from './signal-verdict.ts';

const live: SignalCase = {
  signal: 'p95LatencyMs',
  query: 'q',
  live: true,
  overridden: false,
  stalenessSeconds: 60,
  selector: 'namespace="shop", job="api"',
};
const vector = (...values: string[]) => ({
  resultType: 'vector',
  result: values.map((v, i) => ({ metric: { i: String(i) }, value: [1, v] })),
});

describe('judgeSignal', () => {
  it.each<[string, SignalAnswer, string, string, RegExp | undefined]>([
    [
      'one fresh series',
      { data: vector('98.25'), age: vector('2') },
      'ok',
      '1 series: 98.25, newest sample 2 s old',
      undefined,
    ],
    ['an overridden query without age', { data: vector('3') }, 'ok', '1 series: 3', undefined],
    ['no series', { data: vector() }, 'fail', 'empty: the query returned no series', /job="api"/],
    ['three series', { data: vector('1', '2', '3') }, 'fail', '3 series where one is expected', /aggregate/],
    ['NaN', { data: vector('NaN') }, 'fail', 'the value is NaN', /0\/0/],
    [
      'NaN whose count is 0 while its series are fresh (no events)',
      { data: vector('NaN'), age: vector('2'), events: vector('0') },
      'ok',
      'no events: its count is 0 in the window and its series are fresh (the rules that need it hold)',
      undefined,
    ],
    [
      'NaN whose count moved',
      { data: vector('NaN'), age: vector('2'), events: vector('3') },
      'fail',
      'the value is NaN',
      /0\/0/,
    ],
    [
      'NaN whose count is 0 but its series are stale',
      { data: vector('NaN'), age: vector('300'), events: vector('0') },
      'fail',
      'the newest sample is 300 s old, more than the 60 s staleness bound',
      /Targets page/,
    ],
    [
      'a stale series',
      { data: vector('5'), age: vector('300') },
      'fail',
      'the newest sample is 300 s old, more than the 60 s staleness bound',
      /Targets page/,
    ],
    [
      'an unreachable Prometheus',
      { error: 'Prometheus at http://p is unreachable: ECONNREFUSED' },
      'fail',
      'unanswered: Prometheus at http://p is unreachable: ECONNREFUSED',
      /url/,
    ],
  ])('%s', (_, answer, verdict, detail, fix) => {
    const line = judgeSignal(live, answer);
    expect(line).toMatchObject({ verdict, check: 'signal p95LatencyMs', detail, more: ['query: q'] });
    if (fix) expect(line.fix).toMatch(fix);
  });

  it('warns, not fails, for a signal that only rebuilds history', () => {
    const line = judgeSignal({ ...live, signal: 'readyReplicas', live: false }, { data: vector() });
    expect(line.verdict).toBe('warn');
    expect(line.detail).toContain('history only');
  });

  it('points an empty overridden query at its override', () => {
    const line = judgeSignal({ ...live, overridden: true }, { data: vector() });
    expect(line.fix).toContain('spec.metrics.prometheus.queries.p95LatencyMs');
  });

  it('says why a query was not run', () => {
    const { query: _none, ...unbuilt } = live;
    const line = judgeSignal(
      { ...unbuilt, signal: 'poolUsagePercent' },
      { problem: 'its query needs $poolCapacity, and the pool size is not known' },
    );
    expect(line).toMatchObject({ verdict: 'fail', more: [] });
    expect(line.detail).toMatch(/^not queried: its query needs \$poolCapacity/);
  });
});
