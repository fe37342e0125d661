/**
 * The operator's HTTP endpoints, served by every replica (leader or standby): `/healthz` for the
 * liveness probe, `/readyz` for readiness (503 until the caches have synced), `/metrics` for
 * Prometheus.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

/** Options of startHttpServer. */
export interface HttpServerOptions {
  /** port to listen on; 0 picks a free port, returned by startHttpServer. */
  readonly port: number;
  /** host is the address to bind. @default "0.0.0.0" (every interface, as a pod needs) */
  readonly host?: string;
  /** registry is served at `/metrics`. */
  readonly registry: Registry;
  /** isReady decides `/readyz`: true once the informers have synced. */
  readonly isReady: () => boolean;
  /** isHealthy decides `/healthz`: false makes the kubelet restart the pod. @default always healthy */
  readonly isHealthy?: () => boolean;
}

/** RunningHttpServer is a listening server. */
export interface RunningHttpServer {
  /** port is the port actually bound (useful with port 0). */
  readonly port: number;
  /** close stops listening and ends open connections. */
  close(): Promise<void>;
}

/** startHttpServer listens and resolves once the port is bound. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = createServer((request, response) => {
    handleRequest(options, request, response).catch((err: unknown) => {
      // A failing collector must not take the process down; the scrape just fails.
      if (!response.headersSent)
        respond(response, 500, `error: ${err instanceof Error ? err.message : String(err)}\n`);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

async function handleRequest(
  options: HttpServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    respond(response, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  switch (path) {
    case '/healthz': {
      const healthy = options.isHealthy?.() ?? true;
      respond(response, healthy ? 200 : 503, healthy ? 'ok\n' : 'unhealthy\n');
      return;
    }
    case '/readyz': {
      const ready = options.isReady();
      respond(response, ready ? 200 : 503, ready ? 'ok\n' : 'not ready: caches not synced\n');
      return;
    }
    case '/metrics': {
      const body = await options.registry.metrics();
      respond(response, 200, body, { 'Content-Type': options.registry.contentType });
      return;
    }
    default:
      respond(response, 404, 'not found\n');
  }
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
