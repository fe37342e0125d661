/**
 * The environment variable and ConfigMap key names that common frameworks read their database
 * pool from, so `perfpilot init` can say where a service keeps its pool. Pure.
 */

/** What a pool setting sets: the pool's size or the connections allowed beyond it. */
export type PoolRole = 'poolSize' | 'maxOverflow';

/** A recognised pool setting. */
export interface PoolSettingName {
  /** framework that reads it, e.g. `HikariCP`. */
  readonly framework: string;
  readonly role: PoolRole;
  /** meaning says it in the framework's words, e.g. `maximumPoolSize`. */
  readonly meaning: string;
}

/**
 * POOL_SETTING_NAMES: the names as each framework's documentation or common configuration
 * spells them (Spring Boot's relaxed binding of `spring.datasource.hikari.maximum-pool-size`,
 * SQLAlchemy's `create_engine(pool_size, max_overflow)` read from the environment, node-postgres's
 * `Pool({ max })`, Go's `db.SetMaxOpenConns`, Rails's `pool: <%= ENV["RAILS_MAX_THREADS"] %>`).
 */
export const POOL_SETTING_NAMES: Readonly<Record<string, PoolSettingName>> = {
  SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE: {
    framework: 'HikariCP',
    role: 'poolSize',
    meaning: 'spring.datasource.hikari.maximum-pool-size',
  },
  SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE: {
    framework: 'HikariCP',
    role: 'poolSize',
    meaning: 'spring.datasource.hikari.maximum-pool-size',
  },
  HIKARI_MAXIMUM_POOL_SIZE: { framework: 'HikariCP', role: 'poolSize', meaning: 'maximumPoolSize' },
  DB_POOL_SIZE: { framework: 'SQLAlchemy', role: 'poolSize', meaning: 'pool_size' },
  DB_MAX_OVERFLOW: { framework: 'SQLAlchemy', role: 'maxOverflow', meaning: 'max_overflow' },
  SQLALCHEMY_POOL_SIZE: { framework: 'SQLAlchemy', role: 'poolSize', meaning: 'pool_size' },
  SQLALCHEMY_MAX_OVERFLOW: { framework: 'SQLAlchemy', role: 'maxOverflow', meaning: 'max_overflow' },
  PG_POOL_MAX: { framework: 'node-postgres', role: 'poolSize', meaning: 'Pool max' },
  PGPOOL_MAX: { framework: 'node-postgres', role: 'poolSize', meaning: 'Pool max' },
  DB_MAX_OPEN_CONNS: { framework: 'Go database/sql', role: 'poolSize', meaning: 'SetMaxOpenConns' },
  RAILS_MAX_THREADS: { framework: 'Rails', role: 'poolSize', meaning: 'database.yml pool (one per thread)' },
  DB_POOL: { framework: 'Rails', role: 'poolSize', meaning: 'database.yml pool' },
};

/** recognisePoolSetting names the framework and role of a pool setting's name; undefined for any other name. */
export function recognisePoolSetting(name: string): PoolSettingName | undefined {
  return POOL_SETTING_NAMES[name.toUpperCase()];
}

/** isRedisPasswordName: an env var that by its name holds a Redis password (REDIS_PASSWORD, REDIS_AUTH, ...). */
export function isRedisPasswordName(name: string): boolean {
  return /^(?:[A-Z0-9_]*_)?REDIS(?:_[A-Z0-9]+)*_(?:PASSWORD|PASS|AUTH|AUTH_TOKEN)$/i.test(name);
}
