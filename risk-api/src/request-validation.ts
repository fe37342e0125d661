/**
 * Validation of request bodies and path parameters, pure: each failure is a RequestError whose
 * message starts with the field it is about, so a client knows what to fix.
 */

/** Default confidence levels when a request gives none: the seed's var_95 and var_99. */
export const DEFAULT_CONFIDENCE_LEVELS = [0.95, 0.99] as const;
/** Longest VaR horizon accepted, in trading days (one year). */
export const MAX_HORIZON_DAYS = 250;
/** Most requests in one batch. */
export const MAX_BATCH_SIZE = 100;
/** Symbols: 1-10 characters, capital letters and digits, may contain a dot (BRK.B). */
export const SYMBOL_PATTERN = /^[A-Z][A-Z0-9.]{0,9}$/;

/** A request the API refuses, with its HTTP status and the field at fault. */
export class RequestError extends Error {
  override name = 'RequestError';
  readonly statusCode: number;
  readonly field: string | undefined;

  constructor(statusCode: number, field: string | undefined, message: string) {
    super(field ? `${field}: ${message}` : message);
    this.statusCode = statusCode;
    this.field = field;
  }
}

/** A validated risk-analysis request. */
export interface RiskAnalysisRequest {
  readonly portfolio_id: number;
  readonly confidence_levels: readonly number[];
  readonly time_horizon_days: number;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** parseRiskAnalysisRequest checks `{portfolio_id, confidence_level?, time_horizon_days?}`. */
export function parseRiskAnalysisRequest(body: unknown, prefix = ''): RiskAnalysisRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(400, prefix || 'body', 'must be a JSON object with portfolio_id');
  }
  const b = body as Record<string, unknown>;
  const id = b.portfolio_id;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 2_147_483_647) {
    throw new RequestError(400, `${prefix}portfolio_id`, `must be a positive integer, got ${describe(id)}`);
  }
  let levels: readonly number[] = DEFAULT_CONFIDENCE_LEVELS;
  if (b.confidence_level !== undefined && b.confidence_level !== null) {
    const c = b.confidence_level;
    if (typeof c !== 'number' || !Number.isFinite(c) || c <= 0 || c >= 1) {
      throw new RequestError(
        400,
        `${prefix}confidence_level`,
        `must be a number above 0 and below 1 (e.g. 0.95), got ${describe(c)}`,
      );
    }
    levels = [c];
  }
  let horizon = 1;
  if (b.time_horizon_days !== undefined && b.time_horizon_days !== null) {
    const h = b.time_horizon_days;
    if (typeof h !== 'number' || !Number.isInteger(h) || h < 1 || h > MAX_HORIZON_DAYS) {
      throw new RequestError(
        400,
        `${prefix}time_horizon_days`,
        `must be an integer from 1 to ${MAX_HORIZON_DAYS}, got ${describe(h)}`,
      );
    }
    horizon = h;
  }
  return { portfolio_id: id, confidence_levels: levels, time_horizon_days: horizon };
}

/** parseBatchRequest checks a JSON array of risk-analysis requests (the seed's List[RiskAnalysisRequest]). */
export function parseBatchRequest(body: unknown): RiskAnalysisRequest[] {
  const items = Array.isArray(body) ? body : (body as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(items)) {
    throw new RequestError(400, 'body', 'must be a JSON array of risk-analysis requests');
  }
  if (items.length === 0) throw new RequestError(400, 'body', 'the batch is empty');
  if (items.length > MAX_BATCH_SIZE) {
    throw new RequestError(
      400,
      'body',
      `a batch holds at most ${MAX_BATCH_SIZE} requests, got ${items.length}`,
    );
  }
  return items.map((item, i) => parseRiskAnalysisRequest(item, `[${i}].`));
}

/** parseSymbol checks a market-data symbol (case-insensitive; answered in capitals). */
export function parseSymbol(raw: string | undefined): string {
  const symbol = (raw ?? '').toUpperCase();
  if (!SYMBOL_PATTERN.test(symbol)) {
    throw new RequestError(
      400,
      'symbol',
      `must be 1-10 letters, digits or dots starting with a letter, got ${describe(raw)}`,
    );
  }
  return symbol;
}

/** parseId checks a positive integer path parameter. */
export function parseId(field: string, raw: string | undefined): number {
  const id = Number(raw);
  if (!/^[0-9]{1,10}$/.test(raw ?? '') || !Number.isInteger(id) || id < 1 || id > 2_147_483_647) {
    throw new RequestError(400, field, `must be a positive integer, got ${describe(raw)}`);
  }
  return id;
}
