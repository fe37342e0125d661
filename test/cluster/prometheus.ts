/**
 * Real Prometheus for tests: Debian's `prometheus` binary on a free loopback port, its TSDB in a
 * run directory, scraping the targets a test names (usually a {@link TestExporter}). Tests read
 * series through its HTTP API, as the operator does; `promtool` (from the same package) checks
 * rule files.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { generatePki } from './certs.ts';
import { freePort, RunDirectory, waitFor } from './processes.ts';

const run = promisify(execFile);
const host = '127.0.0.1';

/** A static scrape target: `host:port` and the labels Prometheus attaches to its series. */
export interface ScrapeTarget {
  /** address is `host:port` of the /metrics endpoint. */
  readonly address: string;
  /** job is the `job` label. @default 'test' */
  readonly job?: string;
  /** labels are extra target labels (e.g. `namespace`), added to every series. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** metricsPath is the path scraped. @default '/metrics' */
  readonly metricsPath?: string;
}

/** Options for startPrometheus: static targets, or whole scrape configs, or both. */
export interface PrometheusOptions {
  /** scrapeTargets become one scrape config per job (static_configs). @default [] */
  readonly scrapeTargets?: readonly ScrapeTarget[];
  /** scrapeConfigs are added as written (Prometheus `scrape_configs` entries). @default [] */
  readonly scrapeConfigs?: readonly Record<string, unknown>[];
  /** scrapeIntervalSeconds is the global scrape and evaluation interval. @default 1 */
  readonly scrapeIntervalSeconds?: number;
  /** ruleFiles are rule file contents (YAML text), loaded as `rule_files`. @default [] */
  readonly ruleFiles?: readonly string[];
  /** timeoutMs bounds the wait for /-/ready. @default 30000 */
  readonly timeoutMs?: number;
  /** basicAuth makes every endpoint require this user and password (web config, bcrypt). @default none */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** tls serves https with a fresh test CA's certificate for 127.0.0.1 (see `caCert`). @default false */
  readonly tls?: boolean;
  /**
   * backfill is OpenMetrics text (see {@link counterBackfill}) written into the TSDB as blocks by
   * `promtool tsdb create-blocks-from openmetrics` before Prometheus starts, so its queries see
   * that past. @default none
   */
  readonly backfill?: string;
  /** retentionTime is `--storage.tsdb.retention.time`; longer than the backfill reaches back. @default '1d' */
  readonly retentionTime?: string;
}

/** A running Prometheus. */
export interface PrometheusServer {
  /** url is the base of its HTTP API, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** dataDir holds its TSDB (inside the run directory; removed by stop()). */
  readonly dataDir: string;
  /** caCert is the PEM CA that signed the serving certificate, with `tls`. */
  readonly caCert?: string;
  /**
   * waitForSeries waits until an instant query returns at least one series, and returns the
   * first series' value; fails after `timeoutMs` naming the query.
   */
  waitForSeries(query: string, timeoutMs?: number): Promise<number>;
  /** query runs an instant query and returns its raw `data` (resultType and result). */
  query(query: string): Promise<{ resultType: string; result: unknown[] }>;
  /** stop ends the server and removes its directory. */
  stop(): Promise<void>;
}

function scrapeConfigsOf(options: PrometheusOptions): Record<string, unknown>[] {
  const byJob = new Map<string, ScrapeTarget[]>();
  for (const target of options.scrapeTargets ?? []) {
    const job = target.job ?? 'test';
    byJob.set(job, [...(byJob.get(job) ?? []), target]);
  }
  const fromTargets = [...byJob].map(([job, targets]) => ({
    job_name: job,
    metrics_path: targets[0]?.metricsPath ?? '/metrics',
    static_configs: targets.map((t) => ({ targets: [t.address], labels: { ...t.labels } })),
  }));
  return [...fromTargets, ...(options.scrapeConfigs ?? [])];
}

/**
 * startPrometheus writes a configuration, starts `prometheus` with `--web.enable-lifecycle` and
 * the admin API on a free loopback port, and waits until `/-/ready` answers 200.
 */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<PrometheusServer> {
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const dir = new RunDirectory('perfpilot-prometheus');
  try {
    const port = await freePort();
    const ruleFiles = (options.ruleFiles ?? []).map((text, i) => {
      const path = join(dir.path, `rules-${i}.yaml`);
      writeFileSync(path, text);
      return path;
    });
    const configPath = join(dir.path, 'prometheus.yml');
    writeFileSync(
      configPath,
      stringify({
        global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
        rule_files: ruleFiles,
        scrape_configs: scrapeConfigsOf(options),
      }),
    );
    const dataDir = join(dir.path, 'data');
    if (options.backfill !== undefined) {
      const input = join(dir.path, 'backfill.om');
      writeFileSync(input, options.backfill);
      try {
        await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', input, dataDir], {
          timeout: 120_000,
        });
      } catch (err) {
        const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
        throw new Error(`promtool tsdb create-blocks-from openmetrics failed:\n${stdout}${stderr}`, {
          cause: err,
        });
      }
    }
    const url = `${options.tls ? 'https' : 'http'}://${host}:${port}`;
    const web: Record<string, unknown> = {};
    let caCert: string | undefined;
    if (options.tls) {
      const pki = await generatePki();
      caCert = pki.caCert;
      writeFileSync(join(dir.path, 'tls.crt'), pki.servingCert);
      writeFileSync(join(dir.path, 'tls.key'), pki.servingKey, { mode: 0o600 });
      web.tls_server_config = { cert_file: join(dir.path, 'tls.crt'), key_file: join(dir.path, 'tls.key') };
    }
    if (options.basicAuth) {
      web.basic_auth_users = { [options.basicAuth.username]: await bcrypt(options.basicAuth.password) };
    }
    const webConfigPath = join(dir.path, 'web.yml');
    writeFileSync(webConfigPath, stringify(web), { mode: 0o600 });
    const headers: Record<string, string> = options.basicAuth
      ? {
          authorization: `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`,
        }
      : {};
    const get = async (path: string) => await fetchWith(`${url}${path}`, headers, caCert);
    const server = dir.start('prometheus', 'prometheus', [
      `--web.config.file=${webConfigPath}`,
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=${host}:${port}`,
      '--web.enable-lifecycle',
      '--web.enable-admin-api',
      `--storage.tsdb.retention.time=${options.retentionTime ?? '1d'}`,
      '--log.level=warn',
    ]);
    await waitFor(
      `prometheus ready on ${url}`,
      async () => ((await get('/-/ready')).status === 200 ? true : undefined),
      { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 100, process: server },
    );
    const query = async (promql: string) => {
      const response = await get(`/api/v1/query?${new URLSearchParams({ query: promql })}`);
      const body = JSON.parse(response.text) as {
        status: string;
        error?: string;
        data: { resultType: string; result: unknown[] };
      };
      if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
      return body.data;
    };
    return {
      url,
      port,
      dataDir,
      ...(caCert ? { caCert } : {}),
      query,
      waitForSeries: async (promql, timeoutMs = 20_000) =>
        await waitFor(
          `a series for ${promql}`,
          async () => {
            const data = await query(promql);
            const first = data.result[0] as { value?: [number, string] } | undefined;
            return first?.value ? Number(first.value[1]) : undefined;
          },
          { timeoutMs, intervalMs: 200, process: server },
        ),
      stop: async () => await dir.dispose(),
    };
  } catch (err) {
    await dir.dispose();
    throw err;
  }
}

/**
 * counterBackfill is OpenMetrics text for {@link PrometheusOptions.backfill}: one counter series
 * sampled every `stepSeconds` from `fromSeconds` to before `toSeconds`, growing at `rate(t)` per
 * second, as a scraped counter would.
 */
export function counterBackfill(options: {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly fromSeconds: number;
  readonly toSeconds: number;
  readonly stepSeconds: number;
  readonly rate: (atSeconds: number) => number;
}): string {
  const labels = Object.entries(options.labels)
    .map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`)
    .join(',');
  const lines: string[] = [];
  let value = 0;
  for (let t = options.fromSeconds; t < options.toSeconds; t += options.stepSeconds) {
    value += options.rate(t) * options.stepSeconds;
    lines.push(`${options.name}{${labels}} ${value} ${t}`);
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

/** bcrypt hashes a password as Prometheus's web config wants it (libxcrypt through Python's crypt), at the lowest cost: Prometheus checks it on every request. */
async function bcrypt(password: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = execFile(
      'python3',
      [
        '-W',
        'ignore',
        '-c',
        'import crypt,sys; print(crypt.crypt(sys.stdin.readline().rstrip("\\n"), crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))',
      ],
      { timeout: 10_000 },
      (err, out) => (err ? reject(err) : resolve(out.trim())),
    );
    child.stdin?.end(`${password}\n`);
  });
}

/** fetchWith GETs a URL over http or https (trusting `ca`), with headers; resolves status and body. */
async function fetchWith(
  url: string,
  headers: Record<string, string>,
  ca: string | undefined,
): Promise<{ status: number; text: string }> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return await new Promise((resolve, reject) => {
    const req = request(url, { headers, ...(ca ? { ca } : {}), signal: AbortSignal.timeout(5000) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** checkRules runs `promtool check rules` on rule file contents; resolves with its output, rejects with it. */
export async function checkRules(ruleFileText: string): Promise<string> {
  const dir = new RunDirectory('perfpilot-promtool');
  try {
    const path = join(dir.path, 'rules.yaml');
    writeFileSync(path, ruleFileText);
    try {
      const { stdout, stderr } = await run('promtool', ['check', 'rules', path], { timeout: 30_000 });
      return `${stdout}${stderr}`;
    } catch (err) {
      const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
      throw new Error(`promtool check rules failed:\n${stdout}${stderr}`, { cause: err });
    }
  } finally {
    await dir.dispose();
  }
}
