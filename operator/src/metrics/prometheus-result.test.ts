import { describe, expect, it } from 'vitest';
import {
  checkFreshness,
  isNoEvents,
  readInstantValue,
  readRangeSeries,
  UnknownReason,
  unknown,
} from './prometheus-result.ts';

const vector = (...values: string[]) => ({
  resultType: 'vector',
  result: values.map((v, i) => ({ metric: { pod: `p${i}` }, value: [1700000000, v] })),
});

describe('readInstantValue', () => {
  it.each<[string, unknown, number | string]>([
    ['one series', vector('12.5'), 12.5],
    ['zero is a value, when Prometheus says zero', vector('0'), 0],
    ['a scalar', { resultType: 'scalar', result: [1700000000, '3'] }, 3],
    ['no series', vector(), UnknownReason.Empty],
    ['two series', vector('1', '2'), UnknownReason.MultipleSeries],
    ['NaN (0/0: no traffic)', vector('NaN'), UnknownReason.NotANumber],
    ['+Inf', vector('+Inf'), UnknownReason.Infinite],
    ['-Inf', vector('-Inf'), UnknownReason.Infinite],
    ['a negative value', vector('-3'), UnknownReason.Negative],
    ['a matrix', { resultType: 'matrix', result: [] }, UnknownReason.Unparsable],
    ['a value that is not a number', vector('abc'), UnknownReason.Unparsable],
    ['no data at all', undefined, UnknownReason.Unparsable],
  ])('%s', (_what, data, expected) => {
    const reading = readInstantValue('p95LatencyMs', data);
    if (typeof expected === 'number') expect(reading).toEqual({ value: expected });
    else {
      expect(reading).toMatchObject({ unknown: { signal: 'p95LatencyMs', reason: expected } });
      expect('unknown' in reading && reading.unknown.message).toMatch(/^p95LatencyMs: /);
    }
  });

  it('names the number of series', () => {
    expect(readInstantValue('dbActiveConnections', vector('1', '2', '3'))).toMatchObject({
      unknown: { message: 'dbActiveConnections: the query returned 3 series where one is expected' },
    });
  });
});

describe('checkFreshness', () => {
  it.each<[string, number, boolean]>([
    ['a sample 5 s old', 5, true],
    ['a sample exactly at the bound', 120, true],
    ['a sample 121 s old', 121, false],
  ])('%s against a 120 s bound', (_what, age, fresh) => {
    const reading = checkFreshness({ value: 7 }, { value: age }, 'requestsPerSecond', 120);
    if (fresh) expect(reading).toEqual({ value: 7 });
    else
      expect(reading).toMatchObject({
        unknown: {
          reason: UnknownReason.Stale,
          message: `requestsPerSecond: the newest sample is ${age} s old, more than the 120 s staleness bound`,
        },
      });
  });

  it('keeps an unknown value unknown, and a value whose age is unreadable as it is', () => {
    const empty = readInstantValue('x', vector());
    expect(checkFreshness(empty, { value: 1 }, 'x', 120)).toBe(empty);
    expect(checkFreshness({ value: 2 }, readInstantValue('x', vector('1', '2')), 'x', 120)).toEqual({
      value: 2,
    });
  });

  it('calls a NaN over a stale series stale, and a NaN over a fresh one NaN', () => {
    const nan = readInstantValue('x', vector('NaN'));
    expect(checkFreshness(nan, { value: 300 }, 'x', 120)).toMatchObject({
      unknown: { reason: UnknownReason.Stale },
    });
    expect(checkFreshness(nan, { value: 5 }, 'x', 120)).toBe(nan);
  });

  it('calls a value whose raw series has no current sample stale (a rate still sees old samples)', () => {
    expect(checkFreshness({ value: 2 }, readInstantValue('x', vector()), 'x', 120)).toMatchObject({
      unknown: {
        reason: UnknownReason.Stale,
        message: 'x: its raw series has no current sample (gone stale)',
      },
    });
  });
});

describe('readRangeSeries', () => {
  it('keeps good points and counts the bad ones', () => {
    const data = {
      resultType: 'matrix',
      result: [
        {
          metric: {},
          values: [
            [60, '1'],
            [120, 'NaN'],
            [180, '-1'],
            [240, '+Inf'],
            [300, '4'],
          ],
        },
      ],
    };
    const series = readRangeSeries('requestsPerSecond', data);
    expect('points' in series && [...series.points]).toEqual([
      [60, 1],
      [300, 4],
    ]);
    expect('rejected' in series && series.rejected).toBe(3);
  });

  it.each<[string, unknown, string | number]>([
    ['an empty matrix is an empty series', { resultType: 'matrix', result: [] }, 0],
    [
      'two series are unknown',
      { resultType: 'matrix', result: [{ values: [] }, { values: [] }] },
      UnknownReason.MultipleSeries,
    ],
    ['a vector is unparsable', { resultType: 'vector', result: [] }, UnknownReason.Unparsable],
  ])('%s', (_what, data, expected) => {
    const series = readRangeSeries('s', data);
    if (typeof expected === 'number') expect('points' in series && series.points.size).toBe(expected);
    else expect(series).toMatchObject({ unknown: { reason: expected } });
  });
});

describe('isNoEvents', () => {
  const nan = unknown('poolWaitSecondsMean', UnknownReason.NotANumber, 'the value is NaN');
  const empty = unknown('poolWaitSecondsMean', UnknownReason.Empty, 'no series');
  it.each<[string, Parameters<typeof isNoEvents>, boolean]>([
    ['NaN, count 0, fresh', [nan, { value: 5 }, { value: 0 }, 60], true],
    ['NaN, count moved', [nan, { value: 5 }, { value: 2 }, 60], false],
    ['NaN, count 0, stale', [nan, { value: 90 }, { value: 0 }, 60], false],
    ['NaN, no age', [nan, undefined, { value: 0 }, 60], false],
    ['NaN, no count', [nan, { value: 5 }, undefined, 60], false],
    ['NaN, count NaN', [nan, { value: 5 }, nan, 60], false],
    ['empty, count 0, fresh', [empty, { value: 5 }, { value: 0 }, 60], false],
    ['a number', [{ value: 0.2 }, { value: 5 }, { value: 0 }, 60], false],
  ])('%s → %s', (_, args, expected) => {
    expect(isNoEvents(...args)).toBe(expected);
  });
});
