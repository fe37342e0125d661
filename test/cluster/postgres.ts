/**
 * Real PostgreSQL for tests: Debian's server (`postgresql` package, binaries under
 * /usr/lib/postgresql/<major>/bin) on a free loopback port, with its data in a temporary
 * directory. PostgreSQL refuses to run as root, so when the harness is root the server runs as
 * the `postgres` system user the package creates. Password authentication (scram-sha-256) for a
 * `perfpilot` superuser; the password goes into a 0600 file, never onto a command line.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, type ManagedProcess, RunDirectory, waitFor } from './processes.ts';

const run = promisify(execFile);
const host = '127.0.0.1';

/** A running PostgreSQL server with one database. */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** url is the connection URL, password included (DATABASE_URL). */
  readonly url: string;
  /** client opens a new connection to the database (connected). */
  client(): Promise<pg.Client>;
  /** stopServer shuts the server down (fast: open sessions are ended) and keeps its data. */
  stopServer(): Promise<void>;
  /** startServer starts a stopped server again on the same port and data. */
  startServer(): Promise<void>;
  /** serverPid is the postmaster's pid (its backends are its children), or undefined when stopped. */
  serverPid(): number | undefined;
  /** stop ends the server and removes its directory. */
  stop(): Promise<void>;
}

/** Options for startPostgres. */
export interface PostgresOptions {
  /** database to create. @default 'perfpilot' */
  readonly database?: string;
  /** maxConnections is the server's max_connections. @default 100 (PostgreSQL's default) */
  readonly maxConnections?: number;
  /** timeoutMs bounds initdb and the wait for the server to accept connections. @default 60000 */
  readonly timeoutMs?: number;
}

/** postgresBinDir finds the newest Debian PostgreSQL's bin directory, or says what to install. */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base)
    ? readdirSync(base)
        .filter((d) => existsSync(join(base, d, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) {
    throw new Error(
      'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres); run: apt-get install -y postgresql',
    );
  }
  return join(base, majors[0] as string, 'bin');
}

interface ServerUser {
  readonly uid: number;
  readonly gid: number;
  /** prefix runs a command as this user (setpriv execs, so the pid stays the server's). */
  readonly prefix: readonly string[];
}

async function serverUser(): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
  try {
    return {
      uid: await id('-u'),
      gid: await id('-g'),
      prefix: ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'],
    };
  } catch {
    throw new Error(
      'running as root, but there is no `postgres` user to run PostgreSQL as (apt-get install postgresql)',
    );
  }
}

/** Lets `uid` traverse (not list) every directory above `path`, so it can reach its own data dir. */
function allowTraversal(path: string): void {
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o011);
  }
}

/** startPostgres runs initdb, starts the server and creates the database. */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const database = options.database ?? 'perfpilot';
  const timeoutMs = options.timeoutMs ?? 60_000;
  const user = 'perfpilot';
  const password = crypto.randomUUID().replaceAll('-', '');
  const dir = new RunDirectory('perfpilot-postgres');
  try {
    const owner = await serverUser();
    const data = join(dir.path, 'data');
    mkdirSync(data, { mode: 0o700 });
    const passwordFile = join(dir.path, 'password');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    if (owner) {
      allowTraversal(data);
      chownSync(data, owner.uid, owner.gid);
      chownSync(passwordFile, owner.uid, owner.gid);
    }
    const as = (command: string, args: readonly string[]): [string, string[]] =>
      owner
        ? [owner.prefix[0] as string, [...owner.prefix.slice(1), command, ...args]]
        : [command, [...args]];
    const [initdb, initArgs] = as(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      user,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await run(initdb, initArgs, { timeout: timeoutMs }).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`initdb failed: ${err.stderr || err.message}`);
    });
    const port = await freePort();
    let server: ManagedProcess | undefined;
    const url = `postgres://${user}:${password}@${host}:${port}/${database}`;
    const connect = async (db: string) => {
      const client = new pg.Client({
        host,
        port,
        user,
        password,
        database: db,
        connectionTimeoutMillis: 2000,
      });
      client.on('error', () => {});
      await client.connect();
      return client;
    };
    const startServer = async () => {
      const [command, args] = as(join(bin, 'postgres'), [
        '-D',
        data,
        '-p',
        String(port),
        '-c',
        `listen_addresses=${host}`,
        '-c',
        'unix_socket_directories=',
        '-c',
        `max_connections=${options.maxConnections ?? 100}`,
        // Throwaway test data: no durability work.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ]);
      server = dir.start('postgres', command, args);
      const started = server;
      await waitFor(
        `postgres on ${port}`,
        async () => {
          const client = await connect('postgres');
          await client.end();
          return true;
        },
        { timeoutMs, intervalMs: 100, process: started },
      );
    };
    const stopServer = async () => {
      const s = server;
      if (!s?.isRunning()) return;
      // SIGINT is PostgreSQL's fast shutdown: sessions are ended, not waited for.
      process.kill(s.pid, 'SIGINT');
      const timer = setTimeout(() => process.kill(s.pid, 'SIGKILL'), 10_000);
      await s.exited;
      clearTimeout(timer);
    };
    await startServer();
    const admin = await connect('postgres');
    try {
      await admin.query(`CREATE DATABASE ${pgIdentifier(database)}`);
    } finally {
      await admin.end();
    }
    return {
      host,
      port,
      user,
      password,
      database,
      url,
      client: () => connect(database),
      stopServer,
      startServer,
      serverPid: () => (server?.isRunning() ? server.pid : undefined),
      stop: async () => {
        await stopServer();
        await dir.dispose();
      },
    };
  } catch (err) {
    await dir.dispose();
    throw err;
  }
}

function pgIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new Error(`database name ${name} must be a plain SQL identifier`);
  return name;
}
