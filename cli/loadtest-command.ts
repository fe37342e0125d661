import { readFile } from 'node:fs/promises';
import { Command } from 'commander';

interface LoadtestFlags {
  rate: string;
  duration: string;
  connections: string;
  phases?: string;
  mix?: string;
  zipf?: string;
  symbols?: string;
  seed: string;
  json?: boolean;
}

function positiveInteger(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** loadtestCommand is `perfpilot loadtest URL`: offered load against a running risk API, then a report. */
export function loadtestCommand(): Command {
  return new Command('loadtest')
    .description(
      'Send a Zipf-distributed mix of the risk API’s endpoints to URL, print progress\n' +
        'and the seed guide’s "Load Test Results" report with the API’s cache hit rate\n' +
        'and pool usage. A rate is offered as Poisson arrivals (open loop: a slow answer\n' +
        'does not delay the next request, and latency counts from when a request was\n' +
        'due; the JSON report also gives it from each send, without the generator’s own\n' +
        'lag); rate 0 is a closed loop (autocannon).',
    )
    .argument('<url>', 'base URL of the risk API, e.g. http://127.0.0.1:8001')
    .option(
      '--rate <rps>',
      'offered requests per second (Poisson arrivals); 0 sends as fast as the API answers',
      '100',
    )
    .option('--duration <seconds>', 'how long to send', '10')
    .option(
      '--connections <n>',
      'most concurrent HTTP connections (a due request waits for a free one)',
      '10',
    )
    .option('--phases <file>', 'YAML/JSON list of {duration, rate} steps; replaces --rate and --duration')
    .option(
      '--mix <weights>',
      'endpoint weights, e.g. market-data=50,risk-analysis=25,data=15,batch-risk-analysis=5,health=5 (also: price-history)',
    )
    .option('--zipf <exponent>', 'popularity skew of symbols and portfolios', '1.1')
    .option(
      '--symbols <count>',
      'how many of the seed data’s symbols to request, as seeded (risk-api seed --symbols)',
    )
    .option('--seed <n>', 'seed of the request sequence', '1')
    .option('--json', 'print the report as JSON on standard output (progress still goes to standard error)')
    .action(async (url: string, flags: LoadtestFlags) => {
      const [{ runLoadTest }, { MAX_TOTAL_SECONDS, parseMix, parsePhases }, { formatReport }] =
        await Promise.all([
          import('../risk-api/src/load-test.ts'),
          import('../risk-api/src/load-plan.ts'),
          import('../risk-api/src/load-report.ts'),
        ]);
      try {
        new URL(url);
      } catch {
        throw new Error(`URL "${url}" is not an absolute URL (http://host:port)`);
      }
      const phases = flags.phases
        ? parsePhases(await readFile(flags.phases, 'utf8'))
        : [
            {
              durationSeconds: positiveInteger('--duration', flags.duration, 1, MAX_TOTAL_SECONDS),
              rate: positiveInteger('--rate', flags.rate, 0, 1_000_000),
            },
          ];
      const zipf = Number(flags.zipf);
      if (!Number.isFinite(zipf) || zipf < 0) {
        throw new Error(`--zipf must be a number ≥ 0, got "${flags.zipf}"`);
      }
      const tty = process.stderr.isTTY;
      const result = await runLoadTest({
        url,
        phases,
        connections: positiveInteger('--connections', flags.connections, 1, 10_000),
        ...(flags.mix ? { mix: parseMix(flags.mix) } : {}),
        zipfExponent: zipf,
        ...(flags.symbols === undefined ? {} : { symbolCount: Number(flags.symbols) }),
        seed: positiveInteger('--seed', flags.seed, 0, 2 ** 31),
        onProgress: (line) => process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`),
      });
      if (tty) process.stderr.write('\n');
      console.log(flags.json ? JSON.stringify(result, null, 2) : formatReport(result));
    });
}
