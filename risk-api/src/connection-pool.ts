/**
 * The PostgreSQL connection pool, with the seed's DATABASE_CONFIG semantics (SQLAlchemy's
 * QueuePool): `size` connections are kept, up to `maxOverflow` more are opened under load and
 * closed when returned, a request waits at most `timeoutMs` for one, connections are replaced
 * after `recycleMs`, and a connection that sat idle is pinged before use.
 *
 * resize() changes size and overflow at run time without failing anything in flight: a larger
 * pool serves waiting requests at once; a smaller one stops handing out connections above the new
 * capacity, lets the checked-out ones finish and closes them when returned, and reports the new
 * capacity only once no more than that many are checked out, so `database_connections_active`
 * never exceeds the reported size plus overflow.
 */
import pg from 'pg';
import type { PoolTuning } from './config.ts';

/** applicationNameOf is what pg_stat_activity shows for the connections of process `pid`. */
export function applicationNameOf(pid: number): string {
  return `perfpilot-risk-api ${pid}`;
}

/** After a connection attempt timed out, queued requests get another attempt this much later. */
const RETRY_SLOW_CONNECT_MS = 100;

/** A connection idle for longer than this is pinged before use (when pre-ping is on). */
export const PRE_PING_AFTER_IDLE_MS = 1000;

/** Options of ConnectionPool. */
export interface ConnectionPoolOptions extends PoolTuning {
  /** connectionString is DATABASE_URL. */
  readonly connectionString: string;
  /** timeoutMs bounds the wait for a connection (DB_POOL_TIMEOUT). */
  readonly timeoutMs: number;
  /** recycleMs: connections older than this are closed instead of reused (DB_POOL_RECYCLE). */
  readonly recycleMs: number;
  /** prePing verifies idle connections before use (DB_POOL_PRE_PING). */
  readonly prePing: boolean;
  /**
   * connectTimeoutMs bounds one connection attempt: opening a connection is part of waiting for
   * one, so it gets the pool timeout (a refused connection fails at once regardless).
   * @default timeoutMs
   */
  readonly connectTimeoutMs?: number;
  /** statementTimeoutMs is PostgreSQL's statement_timeout for every query. @default 10000 */
  readonly statementTimeoutMs?: number;
  /** applicationName is shown in pg_stat_activity. @default applicationNameOf(process.pid) */
  readonly applicationName?: string;
  /** onWait is called with the seconds each checkout waited. */
  readonly onWait?: (seconds: number) => void;
  /** onQuery is called with the seconds each query took. */
  readonly onQuery?: (seconds: number) => void;
}

/** What the pool holds now. */
export interface PoolStats {
  readonly size: number;
  readonly maxOverflow: number;
  /** active connections are checked out by requests. */
  readonly active: number;
  readonly idle: number;
  /** opening connections are being established. */
  readonly opening: number;
  /** waiting requests queue for a connection. */
  readonly waiting: number;
  /** timeouts counts checkouts that waited longer than timeoutMs. */
  readonly timeouts: number;
}

/** The database cannot be reached or refused the connection; the request gets a 503. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

/** No connection became free within the pool timeout; the request gets a 503. */
export class PoolTimeoutError extends Error {
  override name = 'PoolTimeoutError';
}

interface Connection {
  readonly client: pg.Client;
  readonly openedAt: number;
  lastUsedAt: number;
  broken: boolean;
}

interface Waiter {
  resolve(connection: Connection): void;
  reject(err: Error): void;
  readonly timer: NodeJS.Timeout;
  readonly since: number;
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE']);

/** isConnectionError tells errors of the connection (server gone, shutting down) from query errors. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && CONNECTION_ERROR_CODES.has(e.code)) return true;
  // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 08xxx connection exceptions.
  if (e.code && (/^57P0[123]$/.test(e.code) || e.code.startsWith('08'))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    e.message ?? '',
  );
}

/** ConnectionPool: see the file comment. */
export class ConnectionPool {
  readonly #options: ConnectionPoolOptions;
  #size: number;
  #maxOverflow: number;
  /** capacity handed out: the new limit right after resize(), before the gauges show it. */
  #limit: number;
  readonly #idle: Connection[] = [];
  readonly #active = new Set<Connection>();
  #opening = 0;
  readonly #waiters: Waiter[] = [];
  #timeouts = 0;
  #closed = false;
  #lastConnectError: Error | undefined;
  #resizeWaiters: (() => void)[] = [];

  constructor(options: ConnectionPoolOptions) {
    this.#options = options;
    this.#size = options.size;
    this.#maxOverflow = options.maxOverflow;
    this.#limit = options.size + options.maxOverflow;
  }

  /** stats tells what the pool holds now; size and maxOverflow are the capacity in force. */
  stats(): PoolStats {
    return {
      size: this.#size,
      maxOverflow: this.#maxOverflow,
      active: this.#active.size,
      idle: this.#idle.length,
      opening: this.#opening,
      waiting: this.#waiters.length,
      timeouts: this.#timeouts,
    };
  }

  /** lastConnectError is the error of the last failed connection attempt, cleared by a success. */
  get lastConnectError(): Error | undefined {
    return this.#lastConnectError;
  }

  /**
   * query runs one parameterized statement on a pooled connection. With a `name`, the statement is
   * prepared once per connection and then only bound and executed: PostgreSQL neither parses nor
   * plans it again. A name must always go with the same text.
   */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: readonly unknown[] = [],
    name?: string,
  ): Promise<pg.QueryResult<R>> {
    const config = { text, values: values as unknown[], ...(name ? { name } : {}) };
    return await this.withConnection((client) => client.query<R>(config));
  }

  /** withConnection checks out a connection for `work` and returns it afterwards, even on error. */
  async withConnection<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const connection = await this.#acquire();
    const started = performance.now();
    try {
      return await work(connection.client);
    } catch (err) {
      if (isConnectionError(err)) {
        connection.broken = true;
        throw new DatabaseUnavailableError(`database unavailable: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    } finally {
      this.#options.onQuery?.((performance.now() - started) / 1000);
      this.#release(connection);
    }
  }

  /**
   * resize sets new size and overflow; resolves once the pool runs within them (immediately when
   * growing, after the surplus checked-out connections came back when shrinking).
   */
  async resize(tuning: PoolTuning): Promise<void> {
    this.#limit = tuning.size + tuning.maxOverflow;
    // Growing: publish now and serve the queue with the new room.
    if (this.#limit >= this.#size + this.#maxOverflow) {
      this.#size = tuning.size;
      this.#maxOverflow = tuning.maxOverflow;
      this.#trimIdle();
      this.#serveWaiters();
      return;
    }
    this.#trimIdle();
    if (this.#active.size + this.#opening > this.#limit) {
      await new Promise<void>((resolve) => this.#resizeWaiters.push(resolve));
    }
    if (this.#limit !== tuning.size + tuning.maxOverflow) return; // a later resize took over
    this.#size = tuning.size;
    this.#maxOverflow = tuning.maxOverflow;
    this.#trimIdle();
  }

  /** close rejects waiting requests and closes every connection once returned. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new DatabaseUnavailableError('the pool is closing'));
    }
    await Promise.allSettled(this.#idle.splice(0).map((c) => c.client.end()));
    const deadline = Date.now() + 5000;
    while (this.#active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  async #acquire(): Promise<Connection> {
    if (this.#closed) throw new DatabaseUnavailableError('the pool is closed');
    const since = performance.now();
    for (;;) {
      const connection = this.#idle.pop();
      if (connection === undefined) break;
      if (this.#active.size >= this.#limit) {
        this.#idle.push(connection);
        break;
      }
      this.#active.add(connection);
      if (await this.#usable(connection)) {
        this.#options.onWait?.((performance.now() - since) / 1000);
        return connection;
      }
      this.#active.delete(connection);
      void this.#destroy(connection);
    }
    if (this.#active.size + this.#opening < this.#limit && this.#waiters.length === 0) {
      const connection = await this.#open();
      this.#options.onWait?.((performance.now() - since) / 1000);
      return connection;
    }
    return await new Promise<Connection>((resolve, reject) => {
      const waiter: Waiter = {
        since,
        resolve: (connection) => {
          this.#options.onWait?.((performance.now() - since) / 1000);
          resolve(connection);
        },
        reject,
        timer: setTimeout(() => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          this.#timeouts++;
          reject(
            new PoolTimeoutError(
              `no database connection free within ${this.#options.timeoutMs} ms (pool ${this.#size}+${this.#maxOverflow}, all in use)`,
            ),
          );
        }, this.#options.timeoutMs),
      };
      this.#waiters.push(waiter);
      this.#serveWaiters();
    });
  }

  /** usable drops recycled connections and pings one that sat idle. */
  async #usable(connection: Connection): Promise<boolean> {
    const now = Date.now();
    if (connection.broken || now - connection.openedAt > this.#options.recycleMs) return false;
    if (this.#options.prePing && now - connection.lastUsedAt > PRE_PING_AFTER_IDLE_MS) {
      try {
        await connection.client.query(';');
      } catch {
        return false;
      }
    }
    return true;
  }

  /** open connects a new client and checks it out; a failure rejects at once (fail fast). */
  async #open(): Promise<Connection> {
    this.#opening++;
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      connectionTimeoutMillis: this.#options.connectTimeoutMs ?? this.#options.timeoutMs,
      statement_timeout: this.#options.statementTimeoutMs ?? 10_000,
      application_name: this.#options.applicationName ?? applicationNameOf(process.pid),
    });
    const connection: Connection = { client, openedAt: Date.now(), lastUsedAt: Date.now(), broken: false };
    // A server that goes away emits 'error' on idle clients; mark them so they are not reused.
    client.on('error', () => {
      connection.broken = true;
      const i = this.#idle.indexOf(connection);
      if (i >= 0) {
        this.#idle.splice(i, 1);
        void this.#destroy(connection);
      }
    });
    try {
      await client.connect();
      this.#lastConnectError = undefined;
    } catch (err) {
      this.#lastConnectError = err as Error;
      void client.end().catch(() => {});
      throw new DatabaseUnavailableError(`database unavailable: ${(err as Error).message}`, { cause: err });
    } finally {
      this.#opening--;
    }
    this.#active.add(connection);
    this.#checkResize();
    return connection;
  }

  #release(connection: Connection): void {
    this.#active.delete(connection);
    connection.lastUsedAt = Date.now();
    // Open connections besides this one; those still connecting are judged when they land, so
    // a burst of connects does not make every returned connection look like overflow.
    const open = this.#active.size + this.#idle.length;
    const expired = Date.now() - connection.openedAt > this.#options.recycleMs;
    if (this.#closed || connection.broken || expired || open >= this.#limit) {
      void this.#destroy(connection);
    } else if (this.#waiters.length > 0) {
      const waiter = this.#waiters.shift() as Waiter;
      clearTimeout(waiter.timer);
      this.#active.add(connection);
      waiter.resolve(connection);
    } else if (open >= this.#size) {
      // An overflow connection: closed when returned, as SQLAlchemy's QueuePool does.
      void this.#destroy(connection);
    } else {
      this.#idle.push(connection);
    }
    this.#serveWaiters();
    this.#checkResize();
  }

  /** serveWaiters opens connections for queued requests while there is room. */
  #serveWaiters(): void {
    while (this.#waiters.length > this.#opening && this.#active.size + this.#opening < this.#limit) {
      const idle = this.#idle.pop();
      if (idle) {
        const waiter = this.#waiters.shift() as Waiter;
        clearTimeout(waiter.timer);
        this.#active.add(idle);
        waiter.resolve(idle);
        continue;
      }
      // #open counts itself in #opening before its first await, so the loop sees it.
      this.#open().then(
        (connection) => {
          const waiter = this.#waiters.shift();
          if (waiter) {
            clearTimeout(waiter.timer);
            waiter.resolve(connection);
          } else this.#release(connection);
        },
        (err: Error) => {
          if (/timeout/i.test((err.cause as Error | undefined)?.message ?? '')) {
            // A slow connect is not a refusal: the queued requests keep their pool timeout.
            setTimeout(() => this.#serveWaiters(), RETRY_SLOW_CONNECT_MS).unref();
            return;
          }
          // The database refused: every queued request fails fast rather than waiting it out.
          for (const waiter of this.#waiters.splice(0)) {
            clearTimeout(waiter.timer);
            waiter.reject(err);
          }
        },
      );
    }
  }

  #trimIdle(): void {
    while (this.#idle.length > 0 && this.#idle.length + this.#active.size + this.#opening > this.#limit) {
      void this.#destroy(this.#idle.shift() as Connection);
    }
    while (this.#idle.length > this.#size) void this.#destroy(this.#idle.shift() as Connection);
  }

  #checkResize(): void {
    if (this.#resizeWaiters.length > 0 && this.#active.size + this.#opening <= this.#limit) {
      for (const resolve of this.#resizeWaiters.splice(0)) resolve();
    }
  }

  async #destroy(connection: Connection): Promise<void> {
    await connection.client.end().catch(() => {});
  }
}
