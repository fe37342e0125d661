import { Command, CommanderError } from 'commander';
import { RISK_API_DEFAULTS, RISK_API_ENVIRONMENT, type RiskApiVariable } from '../risk-api/src/config.ts';

const d = RISK_API_DEFAULTS;
/** What each setting does, for --help; the flag comes from RISK_API_ENVIRONMENT. */
const HELP: Record<RiskApiVariable, string> = {
  PORT: `HTTP port [default ${d.port}]`,
  HOST: `address to listen on [default ${d.host}]`,
  DATABASE_URL:
    'PostgreSQL URL, postgres://user:password@host:port/db [default postgres://localhost:5432/perfpilot]',
  REDIS_HOST: `Redis host: a standalone node or any node of a cluster [default ${d.redisHost}]`,
  REDIS_PORT: `Redis port [default ${d.redisPort}]`,
  REDIS_PASSWORD: 'Redis password (prefer the environment variable: flags show in ps)',
  REDIS_CLUSTER: 'true (cluster), false (one node) or auto: ask the node [default auto]',
  DB_POOL_SIZE: `connections kept in the pool [default ${d.poolSize}]`,
  DB_MAX_OVERFLOW: `extra connections under load [default ${d.maxOverflow}]`,
  DB_POOL_TIMEOUT: `seconds a request waits for a connection [default ${d.poolTimeoutSeconds}]`,
  DB_POOL_RECYCLE: `seconds before a connection is replaced [default ${d.poolRecycleSeconds}]`,
  DB_POOL_PRE_PING: `verify idle connections before use [default ${d.poolPrePing}]`,
  CACHE_TTL_DEFAULT: `TTL in seconds of data without a strategy [default ${d.cacheTtlDefaultSeconds}]`,
  CACHE_STRATEGIES: 'JSON: data type → {"ttl": s, "strategy": name} [default: the seed guide’s]',
  ASYNC_WORKERS: `risk calculations of one batch run at once [default ${d.asyncWorkers}]`,
  MONITORING_ENABLED: `serve /metrics [default ${d.monitoringEnabled}]`,
  PROFILER_ENABLED: `add process CPU, memory and event-loop metrics [default ${d.profilerEnabled}]`,
  TUNING_CONFIG_DIR:
    'directory with DB_POOL_SIZE and DB_MAX_OVERFLOW files (a mounted ConfigMap), watched: the pool is resized when they change',
  CORS_ALLOWED_ORIGINS: 'comma-separated origins allowed by CORS [default none]',
  LOG_LEVEL: 'lowest log level written [default info]',
};

/** optionKey turns a flag (--db-pool-size) into commander's option key (dbPoolSize). */
function optionKey(flag: string): string {
  return flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** environmentWithFlags copies the flags given into a copy of the environment (flags win). */
function environmentWithFlags(flags: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const [variable, flag] of Object.entries(RISK_API_ENVIRONMENT)) {
    const value = flags[optionKey(flag)];
    if (value !== undefined) env[variable] = value;
  }
  return env;
}

/** riskApiCommand is `perfpilot risk-api` (serve) and `perfpilot risk-api seed` (demo data). */
export function riskApiCommand(): Command {
  const command = new Command('risk-api').description(
    'Serve the Redis-cached risk API (VaR, market data) on PostgreSQL; migrates the\n' +
      'schema at start. Flags override the environment variables named in brackets.',
  );
  for (const [variable, flag] of Object.entries(RISK_API_ENVIRONMENT)) {
    command.option(`${flag} <value>`, `${HELP[variable as RiskApiVariable]} [${variable}]`);
  }
  command.action(async (flags: Record<string, string | undefined>) => {
    const { configFromEnvironment } = await import('../risk-api/src/config.ts');
    const { runRiskApiProcess } = await import('../risk-api/src/main.ts');
    const code = await runRiskApiProcess(configFromEnvironment(environmentWithFlags(flags)));
    if (code !== 0) throw new CommanderError(code, 'perfpilot.risk-api', 'risk API stopped');
  });
  command
    .command('seed')
    .description(
      'Write the demo data (300 symbols, three years of daily prices, 200 portfolios) into DATABASE_URL;\n' +
        'deterministic, and a no-op on a database that has it. --symbols N lists more symbols, each\n' +
        'with its prices (a wider working set for the cache; portfolios keep to the first 300).',
    )
    .option('--database-url <url>', `${HELP.DATABASE_URL} [DATABASE_URL]`)
    .option('--symbols <count>', 'how many symbols, at least 300 (default: 300)')
    .action(async (_flags: unknown, seed: Command) => {
      // --database-url may come before or after `seed`; commander gives the first to risk-api.
      const flags = seed.optsWithGlobals<Record<string, string | undefined>>();
      const { configFromEnvironment } = await import('../risk-api/src/config.ts');
      const { seedDemoData } = await import('../risk-api/src/main.ts');
      const config = configFromEnvironment(environmentWithFlags(flags));
      const started = performance.now();
      const outcome = await seedDemoData(
        config.databaseUrl,
        ...(flags.symbols === undefined ? [] : [Number(flags.symbols)]),
      );
      const took = `${((performance.now() - started) / 1000).toFixed(1)} s`;
      console.log(
        outcome.seeded
          ? `seeded ${outcome.symbols} symbols, ${outcome.prices} daily prices, ${outcome.portfolios} portfolios in ${took}`
          : `already seeded (${outcome.symbols} symbols, ${outcome.portfolios} portfolios); nothing written`,
      );
    });
  return command;
}
