/**
 * `npm run bench -- calibration`: the simulator's cache model against a real redis-server over the
 * full calibration grid (key counts, skews, value sizes, maxmemory, with and without TTL), each
 * point paced so that a key lives about 8 s after its last use (see bench/calibration/cache-load.ts).
 * Goal (issue 13): hit rate within 1.5 points, used memory within 5 %.
 */
import { type CacheLoadPoint, calibrateCache, formatCacheCalibration } from './calibration/cache-load.ts';

/** The full grid; the first five rows are issue 13's measured gaps. */
export const CACHE_GRID: readonly CacheLoadPoint[] = [
  { keys: 200_000, zipfExponent: 0.99, valueBytes: 1024, maxmemoryMiB: 64, ttlSeconds: 0 },
  { keys: 200_000, zipfExponent: 0.8, valueBytes: 1024, maxmemoryMiB: 64, ttlSeconds: 0 },
  { keys: 400_000, zipfExponent: 0.9, valueBytes: 512, maxmemoryMiB: 64, ttlSeconds: 0 },
  { keys: 100_000, zipfExponent: 1.1, valueBytes: 2048, maxmemoryMiB: 32, ttlSeconds: 0 },
  { keys: 50_000, zipfExponent: 0.99, valueBytes: 1024, maxmemoryMiB: 16, ttlSeconds: 0 },
  { keys: 20_000, zipfExponent: 0.7, valueBytes: 4096, maxmemoryMiB: 16, ttlSeconds: 0 },
  { keys: 100_000, zipfExponent: 0.9, valueBytes: 100, maxmemoryMiB: 8, ttlSeconds: 0 },
  { keys: 100_000, zipfExponent: 0.9, valueBytes: 32, maxmemoryMiB: 4, ttlSeconds: 0 },
  { keys: 50_000, zipfExponent: 0.99, valueBytes: 1024, maxmemoryMiB: 128, ttlSeconds: 0 },
  {
    keys: 50_000,
    zipfExponent: 0.99,
    valueBytes: 1024,
    maxmemoryMiB: 16,
    ttlSeconds: 10,
    requestsPerSecond: 8000,
  },
  {
    keys: 50_000,
    zipfExponent: 0.99,
    valueBytes: 1024,
    maxmemoryMiB: 128,
    ttlSeconds: 5,
    requestsPerSecond: 8000,
  },
];

/** Runs the grid on one real redis-server and prints the table. */
export async function run(): Promise<void> {
  const results = await calibrateCache(CACHE_GRID, (r) =>
    process.stderr.write(`calibration: ${r.point.keys} keys × ${r.point.valueBytes} B done\n`),
  );
  console.log(formatCacheCalibration(results));
}
