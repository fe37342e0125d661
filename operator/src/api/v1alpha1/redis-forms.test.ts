import { describe, expect, it } from 'vitest';
import { maxMemoryPersistenceOf } from './redis-forms.ts';

describe('maxMemoryPersistenceOf', () => {
  it.each([
    ['nothing set: not persisted', {}, { kind: 'none' }],
    [
      'configMapName: its maxmemory.conf key, format Value (today’s meaning)',
      { configMapName: 'redis-config' },
      { kind: 'configMap', name: 'redis-config', key: 'maxmemory.conf', format: 'Value' },
    ],
    [
      'persist.configMap without a format: Value, key maxmemory.conf',
      { persist: { configMap: { name: 'c' } } },
      { kind: 'configMap', name: 'c', key: 'maxmemory.conf', format: 'Value' },
    ],
    [
      'persist.configMap RedisConf: key redis.conf',
      { persist: { configMap: { name: 'c', format: 'RedisConf' as const } } },
      { kind: 'configMap', name: 'c', key: 'redis.conf', format: 'RedisConf' },
    ],
    [
      'persist.configMap RedisConf with its key',
      { persist: { configMap: { name: 'c', key: 'master.conf', format: 'RedisConf' as const } } },
      { kind: 'configMap', name: 'c', key: 'master.conf', format: 'RedisConf' },
    ],
    ['persist.configRewrite', { persist: { configRewrite: true } }, { kind: 'configRewrite' }],
    ['persist.configRewrite false: not persisted', { persist: { configRewrite: false } }, { kind: 'none' }],
  ])('%s', (_name, redis, expected) => {
    expect(maxMemoryPersistenceOf(redis as Parameters<typeof maxMemoryPersistenceOf>[0])).toEqual(expected);
  });
});
