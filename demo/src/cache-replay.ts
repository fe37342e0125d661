/**
 * `node demo/src/cache-replay.ts MIB`: the counterfactual of the demo's maxmemory change. Replays
 * the wide working set's price-history lookups (Zipf 0.2 over the DEMO_SEED_SYMBOLS symbols, the
 * API's own cache-aside: GET, and SET on a miss) against a fresh 6-node Redis Cluster whose nodes
 * keep `maxmemory MIB` (allkeys-lru) throughout, and prints the steady hit rate: what the phase
 * would get if nobody changed the knob.
 */
import { Cluster, Redis } from 'ioredis';
import { seededRandom } from '../../operator/src/sim/seeded-random.ts';
import { generateSeedData } from '../../risk-api/src/seed-data.ts';
import { zipfSampler } from '../../risk-api/src/zipf.ts';
import { startRedisCluster } from '../../test/cluster/redis.ts';
import { DEMO_SEED_SYMBOLS } from './demo-values.ts';
import { DEFAULT_DEMO_PHASES } from './phases.ts';

const LOOKUPS = 30_000;
/** Lookups before the count starts, so the cache is full (steady state, no first touches). */
const WARM_UP = 10_000;

const mib = Number(process.argv[2]);
if (!Number.isInteger(mib) || mib < 1) throw new Error('usage: node demo/src/cache-replay.ts MAXMEMORY_MIB');
const wide = DEFAULT_DEMO_PHASES[0];
const data = generateSeedData(DEMO_SEED_SYMBOLS);
// The body of GET /api/v1/market-data/:symbol/history, as RiskService.priceHistory writes it.
const bodies = data.symbols.map((s, i) =>
  JSON.stringify({
    symbol: s.symbol,
    currency: 'USD',
    from: data.days[0],
    to: data.days.at(-1),
    prices: data.days.map((day, t) => ({ day, close: data.closes[i]?.[t], volume: data.volumes[i]?.[t] })),
  }),
);
const password = crypto.randomUUID();
const redis = await startRedisCluster({ password });
try {
  const node = (n: { host: string; port: number }) => new Redis({ host: n.host, port: n.port, password });
  for (const n of redis.nodes) {
    const r = node(n);
    await r.config('SET', 'maxmemory', `${mib}mb`);
    await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
    r.disconnect();
  }
  const cluster = new Cluster([...redis.nodes], { redisOptions: { password } });
  const random = seededRandom(1);
  const popularity = zipfSampler(data.symbols.length, wide?.zipf ?? 0.2, random.uniform);
  let hits = 0;
  for (let k = 0; k < LOOKUPS; k++) {
    const i = popularity.next();
    const key = `static_data:price_history:${data.symbols[i]?.symbol}`;
    const value = await cluster.get(key);
    if (k >= WARM_UP && value !== null) hits++;
    if (value === null) await cluster.set(key, bodies[i] as string, 'EX', 3600);
  }
  cluster.disconnect();
  let evicted = 0;
  for (const n of redis.nodes) {
    const r = node(n);
    evicted += Number(/evicted_keys:(\d+)/.exec(await r.info('stats'))?.[1] ?? 0);
    r.disconnect();
  }
  const meanKiB = bodies.reduce((s, b) => s + b.length, 0) / bodies.length / 1024;
  console.log(
    `maxmemory ${mib} MiB per node, ${bodies.length} price histories of ${meanKiB.toFixed(1)} KiB on average: ` +
      `hit rate ${((100 * hits) / (LOOKUPS - WARM_UP)).toFixed(1)} % over lookups ${WARM_UP + 1}-${LOOKUPS}, ${evicted} keys evicted`,
  );
} finally {
  await redis.stop();
}
