/**
 * The HTTP side of the risk API on Fastify with compression and CORS: routes, Cache-Control
 * headers (the seed's: market data public 60 s, risk analysis private 300 s), errors as JSON
 * naming the field, and the request-duration histogram.
 */
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from '../../operator/src/telemetry/logger.ts';
import type { RedisCache } from './cache.ts';
import type { RiskApiConfig } from './config.ts';
import { type ConnectionPool, DatabaseUnavailableError, PoolTimeoutError } from './connection-pool.ts';
import type { RiskApiMetrics } from './metrics.ts';
import {
  parseBatchRequest,
  parseId,
  parseRiskAnalysisRequest,
  parseSymbol,
  RequestError,
  type RiskAnalysisRequest,
} from './request-validation.ts';
import type { CachedAnswer, RiskService } from './risk-service.ts';

/** Largest request body accepted, in bytes (a full batch is far below it). */
export const BODY_LIMIT_BYTES = 256 * 1024;
/** Responses smaller than this are sent uncompressed (the seed's GZipMiddleware minimum_size). */
export const COMPRESS_THRESHOLD_BYTES = 1000;
/** How long /ready waits for a database answer before calling it down. */
export const READINESS_TIMEOUT_MS = 2000;

/** What the HTTP server needs. */
export interface HttpServerDependencies {
  readonly config: RiskApiConfig;
  readonly pool: ConnectionPool;
  readonly cache: RedisCache;
  readonly service: RiskService;
  readonly metrics: RiskApiMetrics;
  readonly logger: Logger;
  /** schemaReady tells whether the migrations have run; until then /api/ answers 503. */
  readonly schemaReady: () => boolean;
  /** databaseReady probes PostgreSQL for /ready. */
  readonly databaseReady: () => Promise<{ ok: boolean; detail: string }>;
}

/** A failure's JSON body. */
interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly field?: string;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** toErrorReply maps any error to a status and a JSON body; unknown errors become a 500 without details. */
export function toErrorReply(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof RequestError) {
    return {
      status: err.statusCode,
      body: {
        error: STATUS_TEXT[err.statusCode] ?? 'Error',
        message: err.message,
        ...(err.field ? { field: err.field } : {}),
      },
    };
  }
  if (err instanceof DatabaseUnavailableError || err instanceof PoolTimeoutError) {
    return { status: 503, body: { error: STATUS_TEXT[503] as string, message: err.message } };
  }
  const f = err as FastifyError;
  if (typeof f?.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    const message =
      f.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || f instanceof SyntaxError
        ? `body: malformed JSON (${f.message})`
        : f.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? `body: larger than ${BODY_LIMIT_BYTES} bytes`
          : f.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
            ? 'body: empty, but content-type is application/json'
            : f.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
              ? 'content-type: send application/json'
              : f.message;
    return {
      status: f.statusCode,
      body: {
        error: STATUS_TEXT[f.statusCode] ?? 'Error',
        message,
        ...(message.startsWith('body:') ? { field: 'body' } : {}),
      },
    };
  }
  return { status: 500, body: { error: STATUS_TEXT[500] as string, message: 'internal error' } };
}

function sendAnswer(reply: FastifyReply, answer: CachedAnswer, cacheControl?: string): FastifyReply {
  reply.header('content-type', 'application/json; charset=utf-8');
  reply.header('x-cache', answer.cached ? 'HIT' : 'MISS');
  if (cacheControl) reply.header('cache-control', cacheControl);
  return reply.send(answer.body);
}

/** mapWithConcurrency runs `work` over `items`, at most `limit` at once, keeping the order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** buildHttpServer creates the Fastify instance with every route; it does not listen. */
export async function buildHttpServer(deps: HttpServerDependencies): Promise<FastifyInstance> {
  const { config, cache, service, metrics } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Keep-alive longer than typical load balancers' idle timeout, so they close first.
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
  });
  // JSON only: a text/plain body gets a 415 rather than a string the validators would refuse.
  app.removeContentTypeParser('text/plain');
  await app.register(compress, { threshold: COMPRESS_THRESHOLD_BYTES, encodings: ['gzip', 'br', 'deflate'] });
  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    credentials: true,
    methods: ['GET', 'POST'],
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.addHook('preHandler', async (request) => {
    if (!deps.schemaReady() && request.url.startsWith('/api/')) {
      throw new DatabaseUnavailableError('database unavailable: the schema is not migrated yet');
    }
  });

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toErrorReply(err);
    if (status === 503) deps.logger.debug({ err: (err as Error).message, url: request.url }, 'unavailable');
    else if (status >= 500) deps.logger.error({ err, url: request.url }, 'request failed');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: 'Not Found', message: `no route ${request.method} ${request.url}` }),
  );

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/ready', async (_request, reply) => {
    const database = await deps.databaseReady();
    const redis = cache.status();
    return reply.status(database.ok ? 200 : 503).send({
      status: database.ok ? (redis.available ? 'ready' : 'degraded') : 'unready',
      database: database.detail,
      redis: redis.available ? `up (${redis.mode})` : redis.detail,
      pool: deps.pool.stats(),
    });
  });

  if (config.monitoringEnabled) {
    app.get('/metrics', async (_request, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return reply.send(await metrics.registry.metrics());
    });
  }

  const strategies = config.cacheStrategies;
  const marketDataCacheControl = `public, max-age=${strategies.market_data.ttl}`;
  const riskCacheControl = `private, max-age=${strategies.risk_calculations.ttl}`;
  const staticCacheControl = `public, max-age=${strategies.static_data.ttl}`;

  app.get<{ Params: { symbol: string } }>('/api/v1/market-data/:symbol', async (request, reply) => {
    const symbol = parseSymbol(request.params.symbol);
    return sendAnswer(reply, await service.marketData(symbol), marketDataCacheControl);
  });

  app.get<{ Params: { symbol: string } }>('/api/v1/market-data/:symbol/history', async (request, reply) => {
    const symbol = parseSymbol(request.params.symbol);
    return sendAnswer(reply, await service.priceHistory(symbol), staticCacheControl);
  });

  app.get<{ Params: { id: string } }>('/api/v1/data/:id', async (request, reply) => {
    return sendAnswer(reply, await service.data(parseId('id', request.params.id)));
  });

  app.post('/api/v1/risk-analysis', async (request, reply) => {
    const parsed = parseRiskAnalysisRequest(request.body);
    return sendAnswer(reply, await service.riskAnalysis(parsed), riskCacheControl);
  });

  app.post('/api/v1/batch-risk-analysis', async (request, reply) => {
    const requests = parseBatchRequest(request.body);
    // Grouped by confidence level and horizon, as the seed does; each group ASYNC_WORKERS at a time.
    const groups = new Map<string, { request: RiskAnalysisRequest; index: number }[]>();
    requests.forEach((r, index) => {
      const key = `${r.confidence_levels.join(',')}|${r.time_horizon_days}`;
      groups.set(key, [...(groups.get(key) ?? []), { request: r, index }]);
    });
    const results = new Array<string>(requests.length);
    for (const group of groups.values()) {
      await mapWithConcurrency(group, config.asyncWorkers, async ({ request: r, index }) => {
        try {
          results[index] = (await service.riskAnalysis(r)).body;
        } catch (err) {
          const { status, body } = toErrorReply(err);
          if (status === 503) throw err; // the database is down: the whole batch is unavailable
          results[index] = JSON.stringify({ portfolio_id: r.portfolio_id, status, ...body });
        }
      });
    }
    reply.header('content-type', 'application/json; charset=utf-8');
    reply.header('cache-control', 'no-store');
    return reply.send(`[${results.join(',')}]`);
  });

  return app;
}
