/**
 * Real redis_exporter for tests: Debian's `prometheus-redis-exporter` on a free loopback port, in
 * front of one redis-server (startRedis), so Prometheus scrapes redis_exporter's own names
 * (`redis_memory_used_bytes`, `redis_keyspace_hits_total`, ...) from a real Redis.
 */
import { freePort, RunDirectory, waitFor } from './processes.ts';
import type { RedisServer } from './redis.ts';

/** A running redis_exporter. */
export interface RedisExporter {
  /** address is `127.0.0.1:port` of its /metrics, for a scrape target. */
  readonly address: string;
  /** stop ends the exporter and removes its directory. */
  stop(): Promise<void>;
}

/**
 * startRedisExporter starts `prometheus-redis-exporter` against `redis` (its password in the
 * environment, never on the command line) and waits until /metrics reports `redis_up 1`.
 */
export async function startRedisExporter(redis: RedisServer, timeoutMs = 15_000): Promise<RedisExporter> {
  const dir = new RunDirectory('perfpilot-redis-exporter');
  try {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const exporter = dir.start(
      'redis-exporter',
      'prometheus-redis-exporter',
      [`-redis.addr=redis://${redis.host}:${redis.port}`, `-web.listen-address=${address}`],
      { ...process.env, REDIS_PASSWORD: redis.password },
    );
    await waitFor(
      `redis_exporter on ${address} reporting redis_up 1`,
      async () => {
        const response = await fetch(`http://${address}/metrics`).catch(() => undefined);
        const text = response?.ok ? await response.text() : '';
        return /^redis_up 1$/m.test(text) ? true : undefined;
      },
      { timeoutMs, intervalMs: 200, process: exporter },
    );
    return { address, stop: async () => await dir.dispose() };
  } catch (err) {
    await dir.dispose();
    throw err;
  }
}
