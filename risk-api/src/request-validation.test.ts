import { describe, expect, it } from 'vitest';
import {
  MAX_BATCH_SIZE,
  parseBatchRequest,
  parseId,
  parseRiskAnalysisRequest,
  parseSymbol,
  RequestError,
} from './request-validation.ts';

function failure(run: () => unknown): { status: number; field: string | undefined; message: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof RequestError)
      return { status: err.statusCode, field: err.field, message: err.message };
    throw err;
  }
  throw new Error('no RequestError');
}

describe('parseRiskAnalysisRequest', () => {
  it('defaults to VaR at 95 % and 99 % over one day', () => {
    expect(parseRiskAnalysisRequest({ portfolio_id: 7 })).toEqual({
      portfolio_id: 7,
      confidence_levels: [0.95, 0.99],
      time_horizon_days: 1,
    });
    expect(
      parseRiskAnalysisRequest({ portfolio_id: 7, confidence_level: 0.975, time_horizon_days: 10 }),
    ).toEqual({
      portfolio_id: 7,
      confidence_levels: [0.975],
      time_horizon_days: 10,
    });
  });

  it.each([
    [null, 'body', 'body: must be a JSON object with portfolio_id'],
    [[1], 'body', 'body: must be a JSON object with portfolio_id'],
    [{}, 'portfolio_id', 'portfolio_id: must be a positive integer, got nothing'],
    [{ portfolio_id: '1' }, 'portfolio_id', 'portfolio_id: must be a positive integer, got "1"'],
    [{ portfolio_id: 0 }, 'portfolio_id', 'portfolio_id: must be a positive integer, got 0'],
    [{ portfolio_id: 1.5 }, 'portfolio_id', 'portfolio_id: must be a positive integer, got 1.5'],
    [
      { portfolio_id: 1, confidence_level: 1 },
      'confidence_level',
      'confidence_level: must be a number above 0 and below 1 (e.g. 0.95), got 1',
    ],
    [{ portfolio_id: 1, confidence_level: 0 }, 'confidence_level', 'got 0'],
    [{ portfolio_id: 1, confidence_level: '0.9' }, 'confidence_level', 'got "0.9"'],
    [
      { portfolio_id: 1, time_horizon_days: 0 },
      'time_horizon_days',
      'time_horizon_days: must be an integer from 1 to 250, got 0',
    ],
    [{ portfolio_id: 1, time_horizon_days: 251 }, 'time_horizon_days', 'got 251'],
    [{ portfolio_id: 1, time_horizon_days: 2.5 }, 'time_horizon_days', 'got 2.5'],
  ])('%j → 400 naming %s', (body, field, message) => {
    const f = failure(() => parseRiskAnalysisRequest(body));
    expect(f.status).toBe(400);
    expect(f.field).toBe(field);
    expect(f.message).toContain(message);
  });
});

describe('parseBatchRequest', () => {
  it('accepts an array or {requests: [...]}', () => {
    expect(parseBatchRequest([{ portfolio_id: 1 }])).toHaveLength(1);
    expect(parseBatchRequest({ requests: [{ portfolio_id: 1 }, { portfolio_id: 2 }] })).toHaveLength(2);
  });

  it.each([
    [{}, 'body', 'body: must be a JSON array of risk-analysis requests'],
    [[], 'body', 'body: the batch is empty'],
    [
      Array.from({ length: MAX_BATCH_SIZE + 1 }, () => ({ portfolio_id: 1 })),
      'body',
      `body: a batch holds at most ${MAX_BATCH_SIZE} requests, got ${MAX_BATCH_SIZE + 1}`,
    ],
    [
      [{ portfolio_id: 1 }, { portfolio_id: 1, confidence_level: 2 }],
      '[1].confidence_level',
      '[1].confidence_level: must be',
    ],
  ])('%#: 400 naming %s', (body, field, message) => {
    const f = failure(() => parseBatchRequest(body));
    expect(f).toMatchObject({ status: 400, field });
    expect(f.message).toContain(message);
  });
});

describe('path parameters', () => {
  it.each([
    ['aapl', 'AAPL'],
    ['BRK.B', 'BRK.B'],
  ])('symbol %s → %s', (raw, symbol) => {
    expect(parseSymbol(raw)).toBe(symbol);
  });

  it.each(['', '1ABC', 'A;DROP', 'ABCDEFGHIJK', "A'"])('rejects symbol %j', (raw) => {
    expect(failure(() => parseSymbol(raw))).toMatchObject({ status: 400, field: 'symbol' });
  });

  it.each(['0', '-1', 'x', '1e3', '99999999999', ''])('rejects id %j', (raw) => {
    expect(failure(() => parseId('id', raw))).toMatchObject({ status: 400, field: 'id' });
  });
});
