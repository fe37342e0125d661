/**
 * The error policy: what a failed reconcile means for the work queue. Transient failures (the API
 * server or network unavailable, a write conflict, throttling) retry with backoff; permanent ones
 * (the request itself is wrong or forbidden) stop retrying until the profile changes, and say why.
 */
import { ApiException } from '@kubernetes/client-node';

/** How the controller treats one failed reconcile. */
export type ErrorClass =
  | { readonly kind: 'transient'; readonly reason: string }
  | { readonly kind: 'permanent'; readonly reason: string };

const transientStatus = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/** classifyError tells transient from permanent errors, with a short reason for logs and Events. */
export function classifyError(err: unknown): ErrorClass {
  if (err instanceof ApiException) {
    const code = err.code;
    if (transientStatus.has(code) || code >= 500) {
      return { kind: 'transient', reason: code === 409 ? 'Conflict' : `HTTP${code}` };
    }
    if (code === 403) return { kind: 'permanent', reason: 'Forbidden' };
    if (code === 422 || code === 400) return { kind: 'permanent', reason: 'Invalid' };
    return { kind: 'permanent', reason: `HTTP${code}` };
  }
  // Connection refused, reset, timeouts: the API server may be restarting.
  return { kind: 'transient', reason: 'Unreachable' };
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
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`.slice(0, 1000);
  }
  return String(err).slice(0, 1000);
}
