/**
 * The physical limit the risk API is measured against: a bare Fastify server whose one handler
 * returns a constant (the API's /health body), with nothing registered. Usage: node bare-fastify.ts PORT
 */
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 0);
const app = Fastify({ logger: false });
app.get('/health', async () => ({ status: 'ok' }));
await app.listen({ port, host: '127.0.0.1' });
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void app.close());
