/**
 * Run-time pool tuning from a mounted directory: the tuning ConfigMap mounted as a volume
 * (TUNING_CONFIG_DIR) holds one file per key, DB_POOL_SIZE and DB_MAX_OVERFLOW among them. The
 * kubelet swaps the files atomically (a `..data` symlink) when the operator changes the ConfigMap;
 * this watcher sees the change (inotify, with a poll as a safety net), reads both files, and
 * hands valid new values to `apply`. Invalid values are reported and the pool keeps its size.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type PoolTuning, parsePoolTuning } from './config.ts';

/** How often the directory is read even without a change notification. */
export const TUNING_POLL_INTERVAL_MS = 5000;
/** Changes within this window are read once (the kubelet writes several entries per update). */
export const TUNING_DEBOUNCE_MS = 100;

/** readPoolTuning reads DB_POOL_SIZE and DB_MAX_OVERFLOW from `dir`; an absent file keeps `current`. */
export async function readPoolTuning(dir: string, current: PoolTuning): Promise<PoolTuning> {
  const read = async (name: string) => {
    try {
      return (await readFile(join(dir, name), 'utf8')).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  return parsePoolTuning(
    { DB_POOL_SIZE: await read('DB_POOL_SIZE'), DB_MAX_OVERFLOW: await read('DB_MAX_OVERFLOW') },
    current,
  );
}

/** Options of watchPoolTuning. */
export interface PoolTuningWatchOptions {
  readonly dir: string;
  /** current returns the tuning in force. */
  readonly current: () => PoolTuning;
  /** apply is called with each new, valid tuning. */
  readonly apply: (tuning: PoolTuning) => Promise<void>;
  /** onError is told about unreadable or invalid files. */
  readonly onError: (err: Error) => void;
  readonly pollIntervalMs?: number;
}

/** watchPoolTuning starts watching; the returned function stops it. */
export function watchPoolTuning(options: PoolTuningWatchOptions): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let lastError = '';
  const check = () => {
    running = running.then(async () => {
      try {
        const current = options.current();
        const next = await readPoolTuning(options.dir, current);
        lastError = '';
        if (next.size !== current.size || next.maxOverflow !== current.maxOverflow) await options.apply(next);
      } catch (err) {
        // Report a bad file once, not on every poll.
        if ((err as Error).message !== lastError) options.onError(err as Error);
        lastError = (err as Error).message;
      }
    });
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(check, TUNING_DEBOUNCE_MS);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(options.dir, { persistent: false }, schedule);
    watcher.on('error', () => {});
  } catch (err) {
    options.onError(new Error(`cannot watch ${options.dir}: ${(err as Error).message}; polling`));
  }
  const poll = setInterval(check, options.pollIntervalMs ?? TUNING_POLL_INTERVAL_MS);
  poll.unref();
  check();
  return () => {
    clearTimeout(timer);
    clearInterval(poll);
    watcher?.close();
  };
}
