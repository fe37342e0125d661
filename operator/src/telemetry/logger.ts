/**
 * The operator's one structured logger: JSON lines (pino) with ISO timestamps and level names.
 * Fields that could carry credentials are redacted wherever they appear in the first levels of a
 * log line, so a careless `logger.info({ spec })` cannot leak a Redis password.
 */
import { pino } from 'pino';

/** Logger is the operator's logger type; components take one and add bindings with `child()`. */
export type Logger = pino.Logger;

/** Field names that never print their value. */
const sensitiveFields = ['password', 'token', 'secret', 'authorization', 'apiKey', 'bearerToken'];

/** redactPaths covers each sensitive field at the top level and up to three objects deep. */
export const redactPaths: readonly string[] = sensitiveFields.flatMap((field) => [
  field,
  `*.${field}`,
  `*.*.${field}`,
  `*.*.*.${field}`,
]);

/** Options of createLogger. */
export interface LoggerOptions {
  /** level is the lowest level written (trace, debug, info, warn, error, fatal, silent). @default "info" */
  readonly level?: string;
  /** destination receives the JSON lines. @default standard output */
  readonly destination?: pino.DestinationStream;
  /** name is written as `name` on every line. @default "perfpilot" */
  readonly name?: string;
}

/** createLogger returns a JSON-lines logger that redacts password, token and secret fields. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const loggerOptions: pino.LoggerOptions = {
    name: options.name ?? 'perfpilot',
    level: options.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names rather than numbers: log pipelines and people both read them.
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...redactPaths], censor: '[redacted]' },
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}
