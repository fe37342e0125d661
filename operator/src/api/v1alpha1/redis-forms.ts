/**
 * The forms a profile's Redis can take beyond a list of endpoints: nodes found through Sentinel,
 * and where a maxmemory change is persisted so a restarted node keeps it. RedisSource
 * (metrics-spec.ts) composes them; the CEL rules that pick one form are in cel-rules.ts.
 */
import Type, { type Static } from 'typebox';
import { PERSIST_ONE_FORM } from './cel-rules.ts';
import { REDIS_CONF_KEY, REDIS_MAXMEMORY_CONFIG_KEY } from './constants.ts';
import { DNS_SUBDOMAIN, StringEnum } from './schema-builders.ts';
import { secretKeyRef } from './secret-key-ref.ts';

/** The `host:port` pattern of every Redis and Sentinel endpoint. */
export const HOST_PORT = '^[a-zA-Z0-9]([-.a-zA-Z0-9]*[a-zA-Z0-9])?:[0-9]{1,5}$';

/** RedisSentinel names the Sentinels that know the master and its replicas. */
export const RedisSentinel = Type.Object(
  {
    endpoints: Type.Array(
      Type.String({
        minLength: 3,
        maxLength: 261,
        pattern: HOST_PORT,
        description: 'host:port of a Sentinel.',
      }),
      {
        minItems: 1,
        maxItems: 16,
        description:
          'endpoints are host:port of the Sentinels; the first that answers names the master and its replicas.',
      },
    ),
    masterName: Type.String({
      minLength: 1,
      maxLength: 253,
      pattern: '^[-._a-zA-Z0-9]+$',
      description:
        'masterName is the name the Sentinels monitor the master under (`sentinel monitor <name> …`).',
    }),
    passwordSecretRef: Type.Optional(
      secretKeyRef(
        'sentinel-password',
        'passwordSecretRef names the Secret key holding the Sentinels’ own password (their `requirepass`); without it the Sentinels are asked without AUTH.',
      ),
    ),
  },
  {
    description:
      'sentinel finds the nodes through Redis Sentinel at every cycle (SENTINEL GET-MASTER-ADDR-BY-NAME and SENTINEL REPLICAS): maxmemory is read and set on the master and every replica, so a failover keeps the value. Exclusive with endpoints.',
  },
);
export type RedisSentinel = Static<typeof RedisSentinel>;

/** How the persisted maxmemory is written in its ConfigMap key. */
export const RedisConfigMapFormat = {
  /** Value: the key holds the single line `maxmemory <n>mb`, which the node's redis.conf includes. */
  Value: 'Value',
  /** RedisConf: the key holds a whole redis.conf; its `maxmemory` line is rewritten or added. */
  RedisConf: 'RedisConf',
} as const;
/** RedisConfigMapFormat is one of the formats above. */
export type RedisConfigMapFormat = (typeof RedisConfigMapFormat)[keyof typeof RedisConfigMapFormat];
/** REDIS_CONFIG_MAP_FORMATS lists every format. */
export const REDIS_CONFIG_MAP_FORMATS = Object.values(RedisConfigMapFormat);

/** RedisPersist says where a maxmemory set with CONFIG SET is written so a restarted node keeps it. */
export const RedisPersist = Type.Object(
  {
    configMap: Type.Optional(
      Type.Object(
        {
          name: Type.String({
            minLength: 1,
            maxLength: 253,
            pattern: DNS_SUBDOMAIN,
            description: 'name of the ConfigMap the Redis pods mount, in the profile’s namespace.',
          }),
          key: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 253,
              pattern: '^[-._a-zA-Z0-9]+$',
              description: `key of the ConfigMap. Defaults to "${REDIS_MAXMEMORY_CONFIG_KEY}" for format Value and "${REDIS_CONF_KEY}" for format RedisConf (Bitnami’s chart also mounts "master.conf" and "replica.conf").`,
            }),
          ),
          format: StringEnum<RedisConfigMapFormat>(REDIS_CONFIG_MAP_FORMATS, {
            default: RedisConfigMapFormat.Value,
            description:
              'format of the key: Value holds the single line `maxmemory <n>mb` (the toolkit’s form, included from redis.conf); RedisConf holds a whole redis.conf, whose `maxmemory` lines are rewritten (or one is added at the end) and every other line kept byte for byte.',
          }),
        },
        { description: 'configMap persists maxmemory in a key of a ConfigMap, by server-side apply.' },
      ),
    ),
    configRewrite: Type.Optional(
      Type.Boolean({
        description:
          'configRewrite, when true, runs CONFIG REWRITE on every node after CONFIG SET, so nodes started from a config file write maxmemory into it (the ACL user then needs +config|rewrite).',
      }),
    ),
  },
  {
    description:
      'persist says where maxmemory is persisted after CONFIG SET: a ConfigMap key, or CONFIG REWRITE on the nodes. Without it (and without configMapName) a change lasts until a node restarts.',
    'x-kubernetes-validations': [PERSIST_ONE_FORM],
  },
);
export type RedisPersist = Static<typeof RedisPersist>;

/** Where a maxmemory change is persisted, once the profile's forms and defaults are resolved. */
export type MaxMemoryPersistence =
  | {
      readonly kind: 'configMap';
      readonly name: string;
      readonly key: string;
      readonly format: RedisConfigMapFormat;
    }
  | { readonly kind: 'configRewrite' }
  | { readonly kind: 'none' };

/**
 * maxMemoryPersistenceOf resolves spec.metrics.redis's persistence: `persist`, else today's
 * `configMapName` (format Value, key maxmemory.conf), else none.
 */
export function maxMemoryPersistenceOf(redis: {
  readonly configMapName?: string;
  readonly persist?: RedisPersist;
}): MaxMemoryPersistence {
  const configMap = redis.persist?.configMap;
  if (configMap) {
    const format = configMap.format ?? RedisConfigMapFormat.Value;
    const key =
      configMap.key ??
      (format === RedisConfigMapFormat.RedisConf ? REDIS_CONF_KEY : REDIS_MAXMEMORY_CONFIG_KEY);
    return { kind: 'configMap', name: configMap.name, key, format };
  }
  if (redis.persist?.configRewrite) return { kind: 'configRewrite' };
  if (redis.configMapName)
    return {
      kind: 'configMap',
      name: redis.configMapName,
      key: REDIS_MAXMEMORY_CONFIG_KEY,
      format: RedisConfigMapFormat.Value,
    };
  return { kind: 'none' };
}
