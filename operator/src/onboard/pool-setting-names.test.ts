import { describe, expect, it } from 'vitest';
import { isRedisPasswordName, recognisePoolSetting } from './pool-setting-names.ts';

describe('recognisePoolSetting', () => {
  it.each([
    ['SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE', 'HikariCP', 'poolSize'],
    ['HIKARI_MAXIMUM_POOL_SIZE', 'HikariCP', 'poolSize'],
    ['DB_POOL_SIZE', 'SQLAlchemy', 'poolSize'],
    ['DB_MAX_OVERFLOW', 'SQLAlchemy', 'maxOverflow'],
    ['SQLALCHEMY_POOL_SIZE', 'SQLAlchemy', 'poolSize'],
    ['PG_POOL_MAX', 'node-postgres', 'poolSize'],
    ['PGPOOL_MAX', 'node-postgres', 'poolSize'],
    ['DB_MAX_OPEN_CONNS', 'Go database/sql', 'poolSize'],
    ['RAILS_MAX_THREADS', 'Rails', 'poolSize'],
    ['DB_POOL', 'Rails', 'poolSize'],
    ['db_pool_size', 'SQLAlchemy', 'poolSize'],
  ])('%s is %s’s %s', (name, framework, role) => {
    expect(recognisePoolSetting(name)).toMatchObject({ framework, role });
  });

  it.each(['DB_HOST', 'POOL', 'REDIS_POOL_SIZE_X', 'DATABASE_URL'])('%s is no pool setting', (name) => {
    expect(recognisePoolSetting(name)).toBeUndefined();
  });
});

describe('isRedisPasswordName', () => {
  it.each([
    ['REDIS_PASSWORD', true],
    ['SPRING_REDIS_PASSWORD', true],
    ['REDIS_AUTH_TOKEN', true],
    ['REDIS_HOST', false],
    ['DB_PASSWORD', false],
  ])('%s: %s', (name, expected) => {
    expect(isRedisPasswordName(name)).toBe(expected);
  });
});
