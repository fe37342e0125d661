/**
 * A small client of the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`): every call
 * has a timeout, credentials (a bearer token or basic auth) and an optional CA bundle, and every
 * failure is a {@link PrometheusError} naming the URL, never the credentials. I/O only: judging
 * the answers is prometheus-result.ts's job.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** How to reach one Prometheus. */
export interface PrometheusConnection {
  /** url is the base of the HTTP API, e.g. `http://prometheus-operated.monitoring.svc:9090`. */
  readonly url: string;
  /** timeoutMs bounds each request, connection included. */
  readonly timeoutMs: number;
  /** bearerToken is sent as `Authorization: Bearer …`. */
  readonly bearerToken?: string;
  /** basicAuth is sent as `Authorization: Basic …`. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** caBundle (PEM) verifies an https url instead of the system CAs. */
  readonly caBundle?: string;
}

/** PrometheusError: a call failed; the message names the URL (without userinfo) and what happened. */
export class PrometheusError extends Error {
  /** url is the Prometheus base URL, credentials removed. */
  readonly url: string;
  constructor(url: string, message: string, options?: ErrorOptions) {
    super(`Prometheus at ${url} ${message}`, options);
    this.name = 'PrometheusError';
    this.url = url;
  }
}

/** withoutCredentials drops `user:password@` from a URL, for messages. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

/** A Prometheus API answer's `data`: resultType and result, unjudged. */
export interface QueryData {
  readonly resultType: string;
  readonly result: unknown;
}

/** PrometheusClient runs instant and range queries against one Prometheus. */
export class PrometheusClient {
  readonly #connection: PrometheusConnection;
  /** url is the base URL without credentials, as named in errors. */
  readonly url: string;
  /**
   * identity is a digest of the URL, credentials and CA bundle: clients with the same identity
   * may share answers (a profile never reads an answer fetched with another's credentials).
   */
  readonly identity: string;

  constructor(connection: PrometheusConnection) {
    this.#connection = connection;
    this.url = withoutCredentials(connection.url);
    const { url, bearerToken, basicAuth, caBundle } = connection;
    this.identity = createHash('sha256')
      .update(JSON.stringify([url, bearerToken ?? null, basicAuth ?? null, caBundle ?? null]))
      .digest('hex');
  }

  /** query runs an instant query, at `timeSeconds` (Unix) or at Prometheus's now. */
  async query(promql: string, timeSeconds?: number): Promise<QueryData> {
    const form: Record<string, string> = { query: promql };
    if (timeSeconds !== undefined) form.time = String(timeSeconds);
    return await this.#post('/api/v1/query', form, promql);
  }

  /** queryRange runs a range query from `startSeconds` to `endSeconds` every `stepSeconds`. */
  async queryRange(
    promql: string,
    startSeconds: number,
    endSeconds: number,
    stepSeconds: number,
  ): Promise<QueryData> {
    return await this.#post(
      '/api/v1/query_range',
      { query: promql, start: String(startSeconds), end: String(endSeconds), step: String(stepSeconds) },
      promql,
    );
  }

  async #post(path: string, form: Record<string, string>, promql: string): Promise<QueryData> {
    const body = new URLSearchParams(form).toString();
    let answer: { status: number; text: string };
    try {
      answer = await this.#send(path, body);
    } catch (err) {
      if (err instanceof PrometheusError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new PrometheusError(
        this.url,
        `is unreachable: ${code ?? (err instanceof Error ? err.message : String(err))}`,
        { cause: err },
      );
    }
    let parsed: { status?: string; data?: QueryData; errorType?: string; error?: string };
    try {
      parsed = JSON.parse(answer.text) as typeof parsed;
    } catch (err) {
      const excerpt = answer.text.trim().split('\n')[0]?.slice(0, 200) ?? '';
      throw new PrometheusError(
        this.url,
        answer.status === 200
          ? 'answered with a body that is not JSON (is this the Prometheus HTTP API?)'
          : `answered HTTP ${answer.status}: ${excerpt}`,
        { cause: err },
      );
    }
    if (answer.status !== 200 || parsed.status !== 'success' || parsed.data === undefined) {
      throw new PrometheusError(
        this.url,
        `rejected ${JSON.stringify(promql)}: HTTP ${answer.status}, ${parsed.errorType ?? 'error'}: ${parsed.error ?? 'no error message'}`,
      );
    }
    return parsed.data;
  }

  #send(path: string, body: string): Promise<{ status: number; text: string }> {
    const { url, timeoutMs, bearerToken, basicAuth, caBundle } = this.#connection;
    const base = new URL(url);
    const target = new URL(`${base.pathname.replace(/\/$/, '')}${path}`, base);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
      accept: 'application/json',
    };
    if (bearerToken !== undefined) headers.authorization = `Bearer ${bearerToken}`;
    else if (basicAuth !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${basicAuth.username}:${basicAuth.password}`).toString('base64')}`;
    } else if (base.username !== '') {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
    }
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        target,
        {
          method: 'POST',
          headers,
          signal: AbortSignal.timeout(timeoutMs),
          ...(caBundle !== undefined && target.protocol === 'https:' ? { ca: caBundle } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', (err) => {
        if (err.name === 'AbortError' || (err as NodeJS.ErrnoException).code === 'ABORT_ERR') {
          reject(new PrometheusError(this.url, `did not answer within ${timeoutMs} ms`, { cause: err }));
        } else {
          reject(err);
        }
      });
      req.end(body);
    });
  }
}
