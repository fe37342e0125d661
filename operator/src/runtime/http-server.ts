/**
 * The operator's HTTP endpoints, served by every replica (leader or standby), on two ports as
 * controller-runtime serves them: the health server (plain HTTP, for the kubelet) answers
 * `/healthz` for the liveness probe and `/readyz` for readiness (503 until the caches have
 * synced); the metrics server answers `/metrics` for Prometheus, by default over HTTPS and only
 * to a caller whose bearer token may `get /metrics` (metrics-auth.ts), since the page describes
 * other teams' workloads.
 *
 * The metrics server speaks HTTP/1.1 only: Node's https server has no HTTP/2, so the HTTP/2
 * Rapid Reset attacks (CVE-2023-44487, CVE-2023-39325) that made kubebuilder turn HTTP/2 off
 * cannot reach it, and ALPN tells a client that offers h2 to use http/1.1.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Registry } from 'prom-client';
import { METRICS_PATH } from '../endpoints.ts';
import type { AuthVerdict } from './metrics-auth.ts';
import type { KeyPair } from './serving-cert.ts';

/** CERT_RELOAD_INTERVAL_MS: how often a mounted certificate is read again (controller-runtime's certwatcher polls every 10 s too). */
export const CERT_RELOAD_INTERVAL_MS = 10_000;

/** RunningHttpServer is a listening server. */
export interface RunningHttpServer {
  /** port is the port actually bound (useful with port 0). */
  readonly port: number;
  /** close stops listening and ends open connections. */
  close(): Promise<void>;
}

/** Options of startHealthServer. */
export interface HealthServerOptions {
  /** port to listen on; 0 picks a free port, returned by startHealthServer. */
  readonly port: number;
  /** host is the address to bind. @default "0.0.0.0" (every interface, as a pod needs) */
  readonly host?: string;
  /** isReady decides `/readyz`: true once the informers have synced. */
  readonly isReady: () => boolean;
  /** isHealthy decides `/healthz`: false makes the kubelet restart the pod. @default always healthy */
  readonly isHealthy?: () => boolean;
}

/** startHealthServer serves /healthz and /readyz over plain HTTP; it resolves once the port is bound. */
export async function startHealthServer(options: HealthServerOptions): Promise<RunningHttpServer> {
  const server = createServer((request, response) => {
    const path = routedPath(request, response);
    if (path === '/healthz') {
      const healthy = options.isHealthy?.() ?? true;
      respond(response, healthy ? 200 : 503, healthy ? 'ok\n' : 'unhealthy\n');
    } else if (path === '/readyz') {
      const ready = options.isReady();
      respond(response, ready ? 200 : 503, ready ? 'ok\n' : 'not ready: caches not synced\n');
    } else if (path !== undefined) {
      respond(response, 404, 'not found\n');
    }
  });
  return await listen(server, options.port, options.host);
}

/** MetricsAuthorization decides who may read /metrics (MetricsAuthorizer does it with the API server). */
export interface MetricsAuthorization {
  check(authorization: string | undefined, verb: string, path: string): Promise<AuthVerdict>;
}

/** SecureMetricsOptions turn on HTTPS and authentication for the metrics server. */
export interface SecureMetricsOptions {
  /** keyPair is the certificate served at start. */
  readonly keyPair: KeyPair;
  /**
   * reloadKeyPair, when given, is called every CERT_RELOAD_INTERVAL_MS; a pair that differs
   * replaces the served one, so a certificate cert-manager renews is served without a restart.
   */
  readonly reloadKeyPair?: () => KeyPair;
  /** authorization checks every request's bearer token. */
  readonly authorization: MetricsAuthorization;
  /** onRefused hears each refused or failed check (for the log). */
  readonly onRefused?: (verdict: Exclude<AuthVerdict, { status: 200 }>) => void;
  /** onReloadFailed hears a certificate that could not be read again (the old one stays). */
  readonly onReloadFailed?: (err: unknown) => void;
}

/** Options of startMetricsServer. */
export interface MetricsServerOptions {
  /** port to listen on; 0 picks a free port, returned by startMetricsServer. */
  readonly port: number;
  /** host is the address to bind. @default "0.0.0.0" */
  readonly host?: string;
  /** registry is served at `/metrics`. */
  readonly registry: Registry;
  /** secure serves HTTPS to authorized callers only; absent, /metrics is plain HTTP for anyone. */
  readonly secure?: SecureMetricsOptions;
}

/** startMetricsServer serves /metrics and resolves once the port is bound. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<RunningHttpServer> {
  const { secure } = options;
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    serveMetrics(options, request, response).catch((err: unknown) => {
      // A failing collector or review must not take the process down; the scrape just fails.
      if (!response.headersSent)
        respond(response, 500, `error: ${err instanceof Error ? err.message : String(err)}\n`);
      else response.destroy();
    });
  };
  if (!secure) return await listen(createServer(handler), options.port, options.host);

  const server = createHttpsServer(
    { ...secure.keyPair, minVersion: 'TLSv1.2', ALPNProtocols: ['http/1.1'] },
    handler,
  );
  const running = await listen(server, options.port, options.host);
  const reload = secure.reloadKeyPair;
  if (!reload) return running;
  let served = secure.keyPair;
  const timer = setInterval(() => {
    try {
      const next = reload();
      if (next.cert === served.cert && next.key === served.key) return;
      server.setSecureContext({ ...next, minVersion: 'TLSv1.2' });
      served = next;
    } catch (err) {
      secure.onReloadFailed?.(err);
    }
  }, CERT_RELOAD_INTERVAL_MS).unref();
  return {
    port: running.port,
    close: async () => {
      clearInterval(timer);
      await running.close();
    },
  };
}

async function serveMetrics(
  options: MetricsServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = routedPath(request, response);
  if (path === undefined) return;
  if (path !== METRICS_PATH) {
    respond(response, 404, 'not found\n');
    return;
  }
  if (options.secure) {
    const verdict = await options.secure.authorization.check(
      request.headers.authorization,
      (request.method ?? 'GET').toLowerCase(),
      path,
    );
    if (verdict.status !== 200) {
      options.secure.onRefused?.(verdict);
      respond(response, verdict.status, `${verdict.message}\n`);
      return;
    }
  }
  const body = await options.registry.metrics();
  respond(response, 200, body, { 'Content-Type': options.registry.contentType });
}

/** routedPath is the request's path, or undefined after answering 405 to a method other than GET or HEAD. */
function routedPath(request: IncomingMessage, response: ServerResponse): string | undefined {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    respond(response, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    return undefined;
  }
  return new URL(request.url ?? '/', 'http://localhost').pathname;
}

async function listen(server: Server, port: number, host = '0.0.0.0'): Promise<RunningHttpServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function respond(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  response.end(body);
}
