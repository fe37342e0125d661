/**
 * Plain HTTP requests against the API server for any resource, given its path: GETs, watch
 * streams and the status write. The informer uses these rather than client-node's typed clients
 * (which need a kind or a group-specific client) and rather than its Watch (which ends a watch
 * after 30 s without data, before our own watchdog could decide): here every status code and every
 * line is ours to judge. The status write, once per reconcile that changed something, goes here
 * too: client-node's typed call runs it through its fetch, web streams and serializer, which cost
 * more CPU than the write itself on the operator's side (a CPU profile of 1,000 reconciles).
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';
import { PooledKubeConfig } from './pooled-kube-config.ts';

/**
 * KubeHttpError is a response from the API server with a status code other than 2xx. It is a
 * client-node ApiException (`code`, `body`), so one check serves errors from either client.
 */
export class KubeHttpError extends ApiException<string> {
  /** reason is the Status object's reason when the body carried one, e.g. "Expired". */
  readonly reason: string | undefined;
  /** retryAfterMs is the Retry-After header in milliseconds, when the server sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(statusCode: number, message: string, reason?: string, retryAfterMs?: number, body = '') {
    super(statusCode, message, body, {});
    this.message = message;
    this.name = 'KubeHttpError';
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }

  /** statusCode is the HTTP status, e.g. 410 Gone, 429 Too Many Requests. */
  get statusCode(): number {
    return this.code;
  }
}

/** Query parameters; undefined values are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * getJson GETs `path` and parses the JSON body; any status but 200 throws a KubeHttpError.
 * `signal` aborts the request.
 */
export async function getJson<T>(
  kubeConfig: KubeConfig,
  path: string,
  query: Query,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<T> {
  const response = await send(kubeConfig, path, query, timeoutMs, signal);
  const body = await readBody(response);
  if (response.statusCode !== 200) throw httpError(response, body);
  try {
    return JSON.parse(body) as T;
  } catch (err) {
    throw new Error(`GET ${path}: the API server answered with invalid JSON`, { cause: err });
  }
}

/**
 * patchJson PATCHes `body` to `path` as `contentType` (e.g. application/merge-patch+json) and
 * parses the answer; any status but 2xx throws a KubeHttpError.
 */
export async function patchJson<T>(
  kubeConfig: KubeConfig,
  path: string,
  body: unknown,
  contentType: string,
  timeoutMs: number,
): Promise<T> {
  const response = await send(kubeConfig, path, {}, timeoutMs, undefined, {
    method: 'PATCH',
    contentType,
    text: JSON.stringify(body),
  });
  const text = await readBody(response);
  const code = response.statusCode ?? 0;
  if (code < 200 || code > 299) throw httpError(response, text);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`PATCH ${path}: the API server answered with invalid JSON`, { cause: err });
  }
}

/** WatchStream is an open watch; `ended` settles when it ends for any reason. */
export interface WatchStream {
  /** ended resolves when the server closes the stream cleanly and rejects on errors. */
  readonly ended: Promise<void>;
  /** close ends the stream from this side; `ended` then resolves. */
  close(): void;
}

/**
 * openWatch starts a watch request and calls `onEvent` for each line (type, object). It resolves
 * once the server answered 200; any other status rejects with a KubeHttpError. `signal` aborts
 * the request while it connects; afterwards, close() ends the stream.
 */
export async function openWatch(
  kubeConfig: KubeConfig,
  path: string,
  query: Query,
  connectTimeoutMs: number,
  onEvent: (type: string, object: unknown) => void,
  signal?: AbortSignal,
): Promise<WatchStream> {
  const response = await send(kubeConfig, path, { ...query, watch: true }, connectTimeoutMs, signal);
  if (response.statusCode !== 200) throw httpError(response, await readBody(response));
  // The connect timeout is over: a healthy watch may stay silent for minutes. TCP keepalive
  // still notices a peer that vanished without closing the connection.
  response.socket?.setTimeout(0);
  response.socket?.setKeepAlive(true, 30_000);
  let closedHere = false;
  const ended = new Promise<void>((resolve, reject) => {
    let pending = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        if (line === '') continue;
        let event: { type?: unknown; object?: unknown };
        try {
          event = JSON.parse(line);
        } catch {
          continue;
        }
        if (typeof event.type === 'string') onEvent(event.type, event.object);
      }
    });
    response.on('end', () => resolve());
    response.on('error', (err) => (closedHere ? resolve() : reject(err)));
    response.on('close', () => {
      if (closedHere || response.complete) resolve();
      else reject(new Error(`watch ${path}: connection closed before the response ended`));
    });
  });
  return {
    ended,
    close: () => {
      closedHere = true;
      response.destroy();
    },
  };
}

/** A request's method and body; GET without a body unless given. */
interface Outgoing {
  readonly method: 'GET' | 'PATCH';
  readonly contentType?: string;
  readonly text?: string;
}

async function send(
  kubeConfig: KubeConfig,
  path: string,
  query: Query,
  timeoutMs: number,
  signal?: AbortSignal,
  outgoing: Outgoing = { method: 'GET' },
) {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  // A PooledKubeConfig has the TLS material read already and keeps its connections alive.
  let options: RequestOptions = {};
  if (kubeConfig instanceof PooledKubeConfig && url.protocol === 'https:')
    options = await kubeConfig.requestOptions();
  else await kubeConfig.applyToHTTPSOptions(options);
  options.method = outgoing.method;
  options.headers = {
    ...options.headers,
    Accept: 'application/json',
    ...(outgoing.text === undefined
      ? {}
      : {
          'Content-Type': outgoing.contentType ?? 'application/json',
          'Content-Length': Buffer.byteLength(outgoing.text),
        }),
  };
  if (signal) options.signal = signal;
  const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return await new Promise<IncomingMessage>((resolve, reject) => {
    let req: ClientRequest;
    try {
      req = request(url, options, resolve);
    } catch (err) {
      reject(err);
      return;
    }
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${outgoing.method} ${url.pathname}: no answer within ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(outgoing.text);
  });
}

async function readBody(response: IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let body = '';
  for await (const chunk of response) body += chunk;
  return body;
}

function httpError(response: IncomingMessage, body: string): KubeHttpError {
  let status: { message?: string; reason?: string } = {};
  try {
    status = JSON.parse(body);
  } catch {
    // Not a Status object (a proxy's error page, say): the raw body is the message.
  }
  const retryAfter = Number(response.headers['retry-after']);
  return new KubeHttpError(
    response.statusCode ?? 0,
    `HTTP ${response.statusCode}: ${status.message ?? body.slice(0, 200)}`,
    status.reason,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    body,
  );
}
