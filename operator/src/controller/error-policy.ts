/**
 * The error policy: what a failed reconcile means for the work queue. The reconcile says so
 * explicitly, as kopf's TemporaryError/PermanentError and controller-runtime's TerminalError do:
 * a {@link TemporaryError} retries (after its delay, else with backoff), a {@link PermanentError}
 * stops and says why until the profile changes. A RangeError is bad input, permanent. Only an
 * error nobody classified falls back to what the Kubernetes API answered: throttling, conflicts
 * and server errors are temporary, a refused request permanent; no answer at all is temporary.
 */
import { ApiException } from '@kubernetes/client-node';
import { EventReason } from '../api/v1alpha1/index.ts';

/** TemporaryError: retry the reconcile, after `retryAfterSeconds` when given, else with backoff. */
export class TemporaryError extends Error {
  override readonly name = 'TemporaryError';
  /** reason is CamelCase, for the log and the retry's metric. */
  readonly reason: string;
  /** retryAfterSeconds is the delay before the retry; undefined means the work queue's backoff. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    reason: string,
    message: string,
    options: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * PermanentError: retrying cannot help; stop, say why (Degraded and a Warning Event), and wait
 * for the profile to change. `recheckAfterSeconds` covers what the operator does not watch (a
 * Secret it may only read by name): it looks again that much later.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  /** reason is CamelCase: the Degraded condition's reason and the Event's. */
  readonly reason: string;
  /** recheckAfterSeconds: look again this much later; undefined waits for a change of the profile. */
  readonly recheckAfterSeconds: number | undefined;

  constructor(
    reason: string,
    message: string,
    options: { recheckAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.recheckAfterSeconds = options.recheckAfterSeconds;
  }
}

/** How the controller treats one failed reconcile. */
export type ErrorVerdict =
  | { readonly kind: 'temporary'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'permanent'; readonly reason: string; readonly recheckAfterMs?: number };

const temporaryStatus = new Set([408, 409, 425, 429]);

/** causes walks an error and its `cause` chain, outermost first. */
function* causes(err: unknown): Generator<unknown> {
  let current = err;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    yield current;
    current = current instanceof Error ? current.cause : undefined;
  }
}

/**
 * errorPolicy classifies a reconcile's error. The first TemporaryError, PermanentError or
 * RangeError in the cause chain decides; otherwise the Kubernetes API's answer does.
 */
export function errorPolicy(err: unknown): ErrorVerdict {
  for (const e of causes(err)) {
    if (e instanceof TemporaryError) {
      return e.retryAfterSeconds === undefined
        ? { kind: 'temporary', reason: e.reason }
        : { kind: 'temporary', reason: e.reason, retryAfterMs: e.retryAfterSeconds * 1000 };
    }
    if (e instanceof PermanentError) {
      return e.recheckAfterSeconds === undefined
        ? { kind: 'permanent', reason: e.reason }
        : { kind: 'permanent', reason: e.reason, recheckAfterMs: e.recheckAfterSeconds * 1000 };
    }
    if (e instanceof RangeError) return { kind: 'permanent', reason: EventReason.InvalidInput };
  }
  for (const e of causes(err)) {
    if (!(e instanceof ApiException)) continue;
    const code = e.code;
    if (temporaryStatus.has(code) || code >= 500) {
      return { kind: 'temporary', reason: code === 409 ? 'Conflict' : `HTTP${code}` };
    }
    if (code === 403) return { kind: 'permanent', reason: EventReason.Forbidden };
    if (code === 422 || code === 400) return { kind: 'permanent', reason: EventReason.Invalid };
    return { kind: 'permanent', reason: `HTTP${code}` };
  }
  // Connection refused, reset, timeouts: the API server may be restarting.
  return { kind: 'temporary', reason: 'Unreachable' };
}

/** errorMessage renders an error for a log line or an Event note, without response bodies' noise. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body);
    let message = body;
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      // not JSON: keep the raw body
    }
    return `HTTP ${err.code}: ${message}`.slice(0, 1000);
  }
  if (err instanceof Error) {
    const cause = err.cause === undefined ? '' : `: ${errorMessage(err.cause)}`;
    return `${err.message}${cause}`.slice(0, 1000);
  }
  return String(err).slice(0, 1000);
}
