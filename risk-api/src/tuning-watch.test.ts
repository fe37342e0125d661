import { afterEach, describe, expect, it } from 'vitest';
import { type ConfigMapVolume, configMapVolume } from '../../test/cluster/config-map-volume.ts';
import type { PoolTuning } from './config.ts';
import { readPoolTuning, watchPoolTuning } from './tuning-watch.ts';

const volumes: ConfigMapVolume[] = [];
afterEach(() => {
  for (const v of volumes.splice(0)) v.remove();
});

function volumeWith(data: Record<string, string>): ConfigMapVolume {
  const v = configMapVolume(data);
  volumes.push(v);
  return v;
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('readPoolTuning', () => {
  it('reads both files and keeps the current value of a missing one', async () => {
    const { dir } = volumeWith({ DB_POOL_SIZE: '12\n' });
    expect(await readPoolTuning(dir, { size: 1, maxOverflow: 7 })).toEqual({ size: 12, maxOverflow: 7 });
  });

  it('names the file with a bad value', async () => {
    const { dir } = volumeWith({ DB_POOL_SIZE: 'twenty', DB_MAX_OVERFLOW: '3' });
    await expect(readPoolTuning(dir, { size: 1, maxOverflow: 1 })).rejects.toThrow(
      'DB_POOL_SIZE is "twenty"; it must be an integer from 1 to 1000',
    );
  });
});

describe('watchPoolTuning', () => {
  it('applies each ConfigMap update, and reports a bad one without applying it', async () => {
    const volume = volumeWith({ DB_POOL_SIZE: '20', DB_MAX_OVERFLOW: '30', CACHE_TTL_DEFAULT: '300' });
    let current: PoolTuning = { size: 20, maxOverflow: 30 };
    const applied: PoolTuning[] = [];
    const errors: string[] = [];
    const stop = watchPoolTuning({
      dir: volume.dir,
      current: () => current,
      apply: async (t) => {
        applied.push(t);
        current = t;
      },
      onError: (err) => errors.push(err.message),
      pollIntervalMs: 60_000, // the change must be seen through the watch, not the poll
    });
    try {
      volume.update({ DB_POOL_SIZE: '25', DB_MAX_OVERFLOW: '10', CACHE_TTL_DEFAULT: '300' });
      await eventually(() => applied.length === 1, 'the first update');
      expect(applied).toEqual([{ size: 25, maxOverflow: 10 }]);
      volume.update({ DB_POOL_SIZE: '0', DB_MAX_OVERFLOW: '10', CACHE_TTL_DEFAULT: '300' });
      await eventually(() => errors.length === 1, 'the error');
      expect(errors[0]).toContain('DB_POOL_SIZE is "0"');
      volume.update({ DB_POOL_SIZE: '5', DB_MAX_OVERFLOW: '1', CACHE_TTL_DEFAULT: '300' });
      await eventually(() => applied.length === 2, 'the second update');
      expect(applied[1]).toEqual({ size: 5, maxOverflow: 1 });
      expect(current).toEqual({ size: 5, maxOverflow: 1 });
    } finally {
      stop();
    }
  });

  it('does not call apply when the values are those in force', async () => {
    const volume = volumeWith({ DB_POOL_SIZE: '4', DB_MAX_OVERFLOW: '2' });
    const applied: PoolTuning[] = [];
    const stop = watchPoolTuning({
      dir: volume.dir,
      current: () => ({ size: 4, maxOverflow: 2 }),
      apply: async (t) => {
        applied.push(t);
      },
      onError: () => {},
      pollIntervalMs: 20,
    });
    await new Promise((r) => setTimeout(r, 200));
    stop();
    expect(applied).toEqual([]);
  });
});
