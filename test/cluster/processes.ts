/**
 * Child processes for the test harness: started with logs in a run directory, stopped with
 * SIGTERM then SIGKILL, and watched by a guardian that cleans up when the owning process dies
 * without calling stop() (a crashed or interrupted test run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { type RequestOptions, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** A process started by the harness, with its output in `logPath`. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** exited resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** isRunning is false once the process has exited. */
  isRunning(): boolean;
  /** stop sends SIGTERM, then SIGKILL after `graceMs`, and resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** logTail returns the last lines of the process's output, for error messages. */
  logTail(lines?: number): string;
}

/**
 * A run directory under the system temp dir with a guardian process: when `ownerPid` exits
 * without `dispose()`, the guardian kills every process recorded in the directory and removes it.
 */
export class RunDirectory {
  readonly path: string;
  readonly #pidFile: string;
  readonly #guardian: ChildProcess;
  readonly #processes = new Set<ManagedProcess>();

  constructor(prefix: string, ownerPid: number = process.pid) {
    this.path = mkdtempSync(join(tmpdir(), `${prefix}-`));
    this.#pidFile = join(this.path, 'pids');
    appendFileSync(this.#pidFile, '');
    this.#guardian = spawn('bash', [join(here, 'guardian.sh'), String(ownerPid), this.path], {
      detached: true,
      stdio: 'ignore',
    });
    this.#guardian.unref();
  }

  /** start runs `command` with its stdout and stderr appended to `<name>.log` in this directory. */
  start(name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): ManagedProcess {
    const logPath = join(this.path, `${name}.log`);
    const fd = openSync(logPath, 'a');
    const child = spawn(command, args, { stdio: ['ignore', fd, fd], env: env ?? process.env });
    closeSync(fd);
    if (child.pid === undefined) {
      throw new Error(`could not start ${name} (${command})`);
    }
    appendFileSync(this.#pidFile, `${child.pid}\n`);
    let running = true;
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => {
        running = false;
        resolve(code ?? signal ?? 'unknown');
      });
      child.once('error', () => {
        running = false;
        resolve('spawn-error');
      });
    });
    const managed: ManagedProcess = {
      name,
      pid: child.pid,
      logPath,
      exited,
      isRunning: () => running,
      stop: async (graceMs = 10_000) => {
        if (!running) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        this.#processes.delete(managed);
      },
      logTail: (lines = 20) => tailOf(logPath, lines),
    };
    this.#processes.add(managed);
    return managed;
  }

  /** dispose stops every process still running, newest first, then the guardian, and removes the directory. */
  async dispose(): Promise<void> {
    // Last started, first stopped: the API server goes before the etcd it talks to.
    for (const child of [...this.#processes].reverse()) await child.stop();
    // The guardian is detached, so it leads its own process group: kill the group, or its
    // `sleep` would outlive it by up to a second.
    try {
      if (this.#guardian.pid !== undefined) process.kill(-this.#guardian.pid, 'SIGKILL');
    } catch {
      this.#guardian.kill('SIGKILL');
    }
    rmSync(this.path, { recursive: true, force: true });
  }
}

function tailOf(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** isAlive tells whether a process with `pid` exists (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** freePort asks the kernel for a TCP port that is free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A port held by a listener until release(), so nothing else is given it meanwhile. */
export interface HeldPort {
  readonly port: number;
  /** release closes the listener, just before the process that owns the port binds it. */
  release(): Promise<void>;
}

/**
 * holdPort picks a free port on 127.0.0.1 and keeps listening on it. Where a port must be known
 * long before its process starts (a scrape target written into Prometheus's configuration), a port
 * from freePort can meanwhile be handed out as another connection's ephemeral source port; a bound
 * port is not.
 */
export async function holdPort(): Promise<HeldPort> {
  const server = createServer();
  server.unref();
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
  return { port, release: async () => await new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** isPortFree tells whether 127.0.0.1:port can be bound now. */
export async function isPortFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * waitFor polls `check` until it returns a value other than undefined, or fails after
 * `timeoutMs` with `what` in the message (and the process's log tail when given).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; process?: ManagedProcess },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (options.process && !options.process.isRunning()) {
      throw new Error(
        `${options.process.name} exited while waiting for ${what}:\n${options.process.logTail()}`,
      );
    }
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const log = options.process ? `\n${options.process.name} log:\n${options.process.logTail()}` : '';
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${cause}${log}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}

/**
 * httpsGet GETs `path` of a local HTTPS server (127.0.0.1, SNI localhost) and returns the status
 * and body; it trusts only `ca` when given, else it does not verify the server's certificate.
 */
export async function httpsGet(
  port: number,
  path: string,
  options: { readonly ca?: string | undefined; readonly headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        servername: 'localhost',
        ...(options.ca ? { ca: options.ca } : { rejectUnauthorized: false }),
        headers: options.headers ?? {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** httpsOk tells whether a GET of `url` answers 200 within 2 s, with the TLS options given. */
export async function httpsOk(url: string, tls: RequestOptions): Promise<boolean> {
  return await new Promise((resolve) => {
    const req = request(url, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
