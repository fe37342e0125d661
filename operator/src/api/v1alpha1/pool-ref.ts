/**
 * Where a profile's DB pool setting lives: `spec.targetRef.pool`, one of three forms. A ConfigMap
 * key pair (the toolkit's stack, and the meaning of every profile written before the field
 * existed), plain env vars of one container of the Deployment (a hand-written service), or
 * `none` (the pool is not tuned, e.g. behind PgBouncer). {@link poolPlaceOf} resolves the form,
 * the legacy `configMapName` and the defaults into one {@link PoolPlace}.
 */
import Type, { type Static } from 'typebox';
import { POOL_EXACTLY_ONE_FORM } from './cel-rules.ts';
import { DNS_SUBDOMAIN } from './schema-builders.ts';

/** DEFAULT_POOL_SIZE_KEY is the tuning ConfigMap's key (an env var of the API) for the pool size. */
export const DEFAULT_POOL_SIZE_KEY = 'DB_POOL_SIZE';
/** DEFAULT_MAX_OVERFLOW_KEY is the tuning ConfigMap's key for the pool's overflow. */
export const DEFAULT_MAX_OVERFLOW_KEY = 'DB_MAX_OVERFLOW';

/** A ConfigMap key or an env var name (what both accept: letters, digits, `-`, `_`, `.`). */
const SETTING_NAME = '^[-._a-zA-Z0-9]+$';
/** A container name (RFC 1123 label). */
const CONTAINER_NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** PoolConfigMap: the pool as two keys of a ConfigMap the pods read (today's form). */
export const PoolConfigMap = Type.Object(
  {
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN,
        description:
          'name of the ConfigMap in the profile’s namespace. Defaults to "<targetRef.name>-tuning". A change rolls the pods through a config-hash annotation on the pod template.',
      }),
    ),
    sizeKey: Type.String({
      minLength: 1,
      maxLength: 253,
      pattern: SETTING_NAME,
      default: DEFAULT_POOL_SIZE_KEY,
      description: `sizeKey is the key holding the pool size. Defaults to ${DEFAULT_POOL_SIZE_KEY}.`,
    }),
    overflowKey: Type.String({
      maxLength: 253,
      pattern: `${SETTING_NAME}|^$`,
      default: DEFAULT_MAX_OVERFLOW_KEY,
      description: `overflowKey is the key holding the pool's overflow (connections opened past the size under load). Defaults to ${DEFAULT_MAX_OVERFLOW_KEY}; "" says the pool has no overflow, and the connection budget then counts the size alone.`,
    }),
  },
  { description: 'configMap: the pool size (and overflow) are keys of a ConfigMap the pods read.' },
);
export type PoolConfigMap = Static<typeof PoolConfigMap>;

/** PoolEnv: the pool as plain env vars of one container of the Deployment. */
export const PoolEnv = Type.Object(
  {
    container: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: CONTAINER_NAME,
      description: 'container is the name of the Deployment’s container whose env vars hold the pool.',
    }),
    sizeVar: Type.String({
      minLength: 1,
      maxLength: 253,
      pattern: SETTING_NAME,
      description:
        'sizeVar is the env var holding the pool size, e.g. SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE. It must be set with `value`: one set from a ConfigMap or Secret (`valueFrom`) is reported, not rewritten.',
    }),
    overflowVar: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: SETTING_NAME,
        description:
          'overflowVar is the env var holding the pool’s overflow. Leave it out for pools with a size only (HikariCP, Go’s database/sql): the connection budget then counts the size alone.',
      }),
    ),
  },
  {
    description:
      'env: the pool size (and overflow) are env vars of one container. A change is a change of the pod template, applied with field manager perfpilot: it rolls the pods itself, at most once per cooldown.',
  },
);
export type PoolEnv = Static<typeof PoolEnv>;

/** PoolRef: exactly one of the forms. */
export const PoolRef = Type.Object(
  {
    configMap: Type.Optional(PoolConfigMap),
    env: Type.Optional(PoolEnv),
    none: Type.Optional(
      Type.Object(
        {},
        {
          description:
            'none: {} says the pool is not tuned (for example behind PgBouncer, or a pool PerfPilot cannot reach); the replica bounds and maxmemory still are, and the connection budget is not checked. An explicit form, not an absent field: a profile without any pool field keeps its old meaning, the ConfigMap "<name>-tuning".',
        },
      ),
    ),
  },
  {
    description:
      'pool says where the DB pool setting lives: exactly one of configMap, env or none. Left out, it is configMap with its defaults (or spec.targetRef.configMapName, the older spelling of configMap.name).',
    'x-kubernetes-validations': [POOL_EXACTLY_ONE_FORM],
  },
);
export type PoolRef = Static<typeof PoolRef>;

/** Where the pool lives, resolved: every default applied. */
export type PoolPlace =
  | {
      readonly kind: 'configMap';
      readonly name: string;
      readonly sizeKey: string;
      /** overflowKey is absent when the pool has no overflow. */
      readonly overflowKey?: string;
    }
  | {
      readonly kind: 'env';
      readonly container: string;
      readonly sizeVar: string;
      /** overflowVar is absent when the pool has no overflow. */
      readonly overflowVar?: string;
    }
  | { readonly kind: 'none' };

/** The parts of spec.targetRef poolPlaceOf reads. */
export interface PoolFields {
  readonly name: string;
  readonly configMapName?: string;
  readonly pool?: {
    readonly configMap?: { readonly name?: string; readonly sizeKey?: string; readonly overflowKey?: string };
    readonly env?: PoolEnv;
    readonly none?: object;
  };
}

/**
 * poolPlaceOf resolves spec.targetRef into where the pool lives: `pool.env`, `pool.none`, else
 * the ConfigMap form, named by `pool.configMap.name`, else the older `configMapName`, else
 * `<name>-tuning`, with the default keys. An overflow key or var that is absent or "" means none.
 */
export function poolPlaceOf(targetRef: PoolFields): PoolPlace {
  const { pool } = targetRef;
  if (pool?.env) {
    const { container, sizeVar, overflowVar } = pool.env;
    return { kind: 'env', container, sizeVar, ...(overflowVar ? { overflowVar } : {}) };
  }
  if (pool?.none) return { kind: 'none' };
  const configMap = pool?.configMap;
  const overflowKey = configMap ? configMap.overflowKey : DEFAULT_MAX_OVERFLOW_KEY;
  return {
    kind: 'configMap',
    name: configMap?.name ?? targetRef.configMapName ?? `${targetRef.name}-tuning`,
    sizeKey: configMap?.sizeKey ?? DEFAULT_POOL_SIZE_KEY,
    // Read without the API server's defaulting (a draft, a test), an unset key is the default.
    ...(overflowKey === undefined
      ? { overflowKey: DEFAULT_MAX_OVERFLOW_KEY }
      : overflowKey !== ''
        ? { overflowKey }
        : {}),
  };
}
