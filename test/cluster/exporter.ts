/**
 * A test exporter: a prom-client Registry served on a free loopback port at /metrics, whose
 * gauges, counters and histograms the test sets. Prometheus scrapes it like any exporter, so a
 * test drives the series the operator reads through a real Prometheus.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { freePort } from './processes.ts';

/** A sample served with an explicit timestamp (Prometheus then keeps its age: a stale sample). */
export interface TimestampedSample {
  /** name of the metric, e.g. `database_connections_active`. */
  readonly name: string;
  /** labels of the series. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** value of the sample. */
  readonly value: number;
  /** timestampMs is the sample's time in Unix milliseconds. */
  readonly timestampMs: number;
}

/** A running test exporter. */
export interface TestExporter {
  /** address is `127.0.0.1:port`, for a scrape target. */
  readonly address: string;
  readonly port: number;
  /** registry holds the metrics served. */
  readonly registry: Registry;
  /** gauge registers (once) and returns a gauge. */
  gauge(name: string, labelNames?: readonly string[]): Gauge;
  /** counter registers (once) and returns a counter. */
  counter(name: string, labelNames?: readonly string[]): Counter;
  /** histogram registers (once) and returns a histogram with the given buckets. */
  histogram(name: string, buckets: readonly number[], labelNames?: readonly string[]): Histogram;
  /** setTimestamped serves these samples (replacing earlier ones) after the registry's output. */
  setTimestamped(samples: readonly TimestampedSample[]): void;
  /** setRaw serves this exposition text instead of the registry (e.g. NaN, +Inf); undefined restores it. */
  setRaw(text: string | undefined): void;
  /** stop closes the server. */
  stop(): Promise<void>;
}

function labelText(labels: Readonly<Record<string, string>> = {}): string {
  const pairs = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`,
  );
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

/** startTestExporter serves a fresh registry on a free loopback port. */
export async function startTestExporter(): Promise<TestExporter> {
  const registry = new Registry();
  const metrics = new Map<string, Gauge | Counter | Histogram>();
  let timestamped: readonly TimestampedSample[] = [];
  let raw: string | undefined;
  const server: Server = createServer((request, response) => {
    void (async () => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      const extra = timestamped
        .map((s) => `${s.name}${labelText(s.labels)} ${s.value} ${Math.round(s.timestampMs)}\n`)
        .join('');
      const body = raw ?? `${await registry.metrics()}${extra}`;
      response.writeHead(200, { 'content-type': registry.contentType }).end(body);
    })();
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const once = <T extends Gauge | Counter | Histogram>(name: string, make: () => T): T => {
    const existing = metrics.get(name);
    if (existing) return existing as T;
    const created = make();
    metrics.set(name, created);
    return created;
  };
  return {
    address: `127.0.0.1:${port}`,
    port,
    registry,
    gauge: (name, labelNames = []) =>
      once(name, () => new Gauge({ name, help: name, labelNames: [...labelNames], registers: [registry] })),
    counter: (name, labelNames = []) =>
      once(name, () => new Counter({ name, help: name, labelNames: [...labelNames], registers: [registry] })),
    histogram: (name, buckets, labelNames = []) =>
      once(
        name,
        () =>
          new Histogram({
            name,
            help: name,
            buckets: [...buckets],
            labelNames: [...labelNames],
            registers: [registry],
          }),
      ),
    setTimestamped: (samples) => {
      timestamped = samples;
    },
    setRaw: (text) => {
      raw = text;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
