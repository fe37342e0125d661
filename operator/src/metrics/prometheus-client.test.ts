import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PrometheusClient, withoutCredentials } from './prometheus-client.ts';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('withoutCredentials', () => {
  it.each([
    ['https://user:s3cret@prometheus.example.com:9090/prom', 'https://prometheus.example.com:9090/prom'],
    ['http://prometheus-operated.monitoring.svc:9090', 'http://prometheus-operated.monitoring.svc:9090'],
    ['http://token@p:9090/', 'http://p:9090'],
  ])('%s → %s', (url, expected) => {
    expect(withoutCredentials(url)).toBe(expected);
  });
});

describe('PrometheusClient errors', () => {
  it('names the URL without its userinfo, and never a token or password', async () => {
    const port = await closedPort();
    const client = new PrometheusClient({
      url: `http://admin:url-password@127.0.0.1:${port}`,
      timeoutMs: 1000,
      bearerToken: 'bearer-token-value',
    });
    const err = (await client.query('up').catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`Prometheus at http://127.0.0.1:${port} is unreachable: ECONNREFUSED`);
    expect(JSON.stringify({ message: err.message, stack: err.stack })).not.toMatch(
      /url-password|bearer-token-value/,
    );
  });
});
