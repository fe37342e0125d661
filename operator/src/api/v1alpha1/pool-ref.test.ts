import { describe, expect, it } from 'vitest';
import { type PoolFields, type PoolPlace, poolPlaceOf } from './pool-ref.ts';

describe('poolPlaceOf: where the pool lives, every default applied', () => {
  it.each<[string, PoolFields, PoolPlace]>([
    [
      'no pool field: the ConfigMap "<name>-tuning" with the toolkit’s keys, as before the field existed',
      { name: 'risk-api' },
      { kind: 'configMap', name: 'risk-api-tuning', sizeKey: 'DB_POOL_SIZE', overflowKey: 'DB_MAX_OVERFLOW' },
    ],
    [
      'the older configMapName names the ConfigMap',
      { name: 'risk-api', configMapName: 'shared-tuning' },
      { kind: 'configMap', name: 'shared-tuning', sizeKey: 'DB_POOL_SIZE', overflowKey: 'DB_MAX_OVERFLOW' },
    ],
    [
      'pool.configMap as the API server defaults it',
      { name: 'billing', pool: { configMap: { sizeKey: 'DB_POOL_SIZE', overflowKey: 'DB_MAX_OVERFLOW' } } },
      { kind: 'configMap', name: 'billing-tuning', sizeKey: 'DB_POOL_SIZE', overflowKey: 'DB_MAX_OVERFLOW' },
    ],
    [
      'pool.configMap with its own name and keys',
      { name: 'billing', pool: { configMap: { name: 'env', sizeKey: 'POOL', overflowKey: 'OVER' } } },
      { kind: 'configMap', name: 'env', sizeKey: 'POOL', overflowKey: 'OVER' },
    ],
    [
      'overflowKey "" says the pool has no overflow',
      { name: 'billing', pool: { configMap: { sizeKey: 'PG_POOL_MAX', overflowKey: '' } } },
      { kind: 'configMap', name: 'billing-tuning', sizeKey: 'PG_POOL_MAX' },
    ],
    [
      'pool.env with a size only',
      {
        name: 'orders',
        pool: { env: { container: 'app', sizeVar: 'SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE' } },
      },
      { kind: 'env', container: 'app', sizeVar: 'SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE' },
    ],
    [
      'pool.env with an overflow',
      {
        name: 'orders',
        pool: { env: { container: 'app', sizeVar: 'DB_POOL_SIZE', overflowVar: 'DB_MAX_OVERFLOW' } },
      },
      { kind: 'env', container: 'app', sizeVar: 'DB_POOL_SIZE', overflowVar: 'DB_MAX_OVERFLOW' },
    ],
    ['pool.none: not tuned', { name: 'catalog', pool: { none: {} } }, { kind: 'none' }],
  ])('%s', (_name, targetRef, place) => {
    expect(poolPlaceOf(targetRef)).toEqual(place);
  });
});
