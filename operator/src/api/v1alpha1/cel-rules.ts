/**
 * The CRD's cross-field checks, as CEL rules in `x-kubernetes-validations`: the API server refuses
 * a profile that breaks one, with the message below naming the fields. A single field's bounds are
 * plain schema keywords (minimum, maxLength, pattern) beside the field; only a rule that compares
 * two fields lives here, so every such rule can be read in one place.
 */
import { MAXMEMORY_CEILING_CEL_RULE, MAXMEMORY_SHARE_PERCENT } from './redis-maxmemory-ceiling.ts';

/** A CEL rule in `x-kubernetes-validations`. */
export interface CelRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  /** fieldPath, relative to the schema carrying the rule, is the field the API server names. */
  readonly fieldPath?: string;
  readonly reason?:
    | 'FieldValueInvalid'
    | 'FieldValueForbidden'
    | 'FieldValueRequired'
    | 'FieldValueDuplicate';
}

/** A CEL rule checking `self.<lo> <= self.<hi>` and naming both values when it fails. */
export function orderedPair(owner: string, lo: string, hi: string): CelRule {
  return {
    rule: `self.${lo} <= self.${hi}`,
    message: `${owner}.${lo} must be less than or equal to ${owner}.${hi}`,
    fieldPath: `.${lo}`,
    reason: 'FieldValueInvalid',
  };
}

/** Prometheus takes one kind of credential: a bearer token or basic auth, not both. */
export const PROMETHEUS_ONE_CREDENTIAL: CelRule = {
  rule: '!(has(self.bearerTokenSecretRef) && has(self.basicAuth))',
  message: 'prometheus.bearerTokenSecretRef and prometheus.basicAuth are exclusive: choose one',
  fieldPath: '.basicAuth',
  reason: 'FieldValueForbidden',
};

/** maxmemory leaves the Redis container room for fragmentation, replication buffers and forks. */
export const MAXMEMORY_WITHIN_CONTAINER: CelRule = {
  rule: MAXMEMORY_CEILING_CEL_RULE,
  message: `redisMaxmemory.maxMiB must be at most ${MAXMEMORY_SHARE_PERCENT}% of redisMaxmemory.containerMemoryLimitMiB, to leave room for fragmentation, replication buffers and forks`,
  fieldPath: '.maxMiB',
  reason: 'FieldValueInvalid',
};

/** Some connections stay free for administrators and other clients. */
export const RESERVED_BELOW_MAX_CONNECTIONS: CelRule = {
  rule: 'self.reservedConnections < self.maxConnections',
  message: 'database.reservedConnections must be less than database.maxConnections',
  fieldPath: '.reservedConnections',
  reason: 'FieldValueInvalid',
};

/** A change is evaluated at least once before its verification window judges it. */
export const EVALUATED_WITHIN_VERIFICATION: CelRule = {
  rule: 'self.evaluationIntervalSeconds <= self.verificationWindowSeconds',
  message:
    'policy.evaluationIntervalSeconds must be less than or equal to policy.verificationWindowSeconds, so a change is evaluated at least once before it is judged',
  fieldPath: '.evaluationIntervalSeconds',
  reason: 'FieldValueInvalid',
};

/** A change is verified before the cooldown lets the next one through. */
export const VERIFIED_WITHIN_COOLDOWN: CelRule = {
  rule: 'self.verificationWindowSeconds <= self.cooldownSeconds || self.cooldownSeconds == 0',
  message:
    'policy.verificationWindowSeconds must be less than or equal to policy.cooldownSeconds (unless the cooldown is 0), so a change is verified before the next one',
  fieldPath: '.verificationWindowSeconds',
  reason: 'FieldValueInvalid',
};

/** The knobs' lowest settings fit the connection budget, so some configuration is allowed. */
export const BOUNDS_FIT_CONNECTION_BUDGET: CelRule = {
  rule: 'self.knobs.replicas.floor * (self.knobs.poolSize.min + self.knobs.maxOverflow.min) <= self.database.maxConnections - self.database.reservedConnections',
  message:
    'knobs allow no configuration within the connection budget: knobs.replicas.floor x (knobs.poolSize.min + knobs.maxOverflow.min) must be at most database.maxConnections - database.reservedConnections',
  fieldPath: '.knobs',
  reason: 'FieldValueInvalid',
};

/** The pool lives in one place: a ConfigMap, env vars, or nowhere the operator tunes. */
export const POOL_EXACTLY_ONE_FORM: CelRule = {
  rule: '[has(self.configMap), has(self.env), has(self.none)].filter(f, f).size() == 1',
  message: 'pool must set exactly one of configMap, env or none',
  reason: 'FieldValueInvalid',
};

/** The older configMapName and the pool form say the same thing: one of them, not both. */
export const POOL_OR_CONFIG_MAP_NAME: CelRule = {
  rule: '!(has(self.configMapName) && has(self.pool))',
  message:
    'targetRef.configMapName and targetRef.pool are exclusive: write pool.configMap.name instead of configMapName',
  fieldPath: '.configMapName',
  reason: 'FieldValueForbidden',
};

/** A profile's Redis nodes are either listed or found through Sentinel: exactly one of the two. */
export const REDIS_ONE_DISCOVERY: CelRule = {
  rule: 'has(self.endpoints) != has(self.sentinel)',
  message:
    'metrics.redis needs exactly one of endpoints and sentinel: list the nodes, or name the Sentinels that know them',
  fieldPath: '.endpoints',
  reason: 'FieldValueInvalid',
};

/** An ACL user authenticates with a password (AUTH username password). */
export const REDIS_USERNAME_NEEDS_PASSWORD: CelRule = {
  rule: '!has(self.username) || has(self.passwordSecretRef)',
  message:
    'metrics.redis.username needs metrics.redis.passwordSecretRef: an ACL user authenticates with AUTH username password',
  fieldPath: '.passwordSecretRef',
  reason: 'FieldValueRequired',
};

/** maxmemory is persisted in one place: the older configMapName or persist, not both. */
export const REDIS_ONE_PERSISTENCE: CelRule = {
  rule: '!(has(self.configMapName) && has(self.persist))',
  message:
    'metrics.redis.configMapName and metrics.redis.persist are exclusive: configMapName is persist.configMap with format Value',
  fieldPath: '.persist',
  reason: 'FieldValueForbidden',
};

/** persist takes one form: a ConfigMap key or CONFIG REWRITE. */
export const PERSIST_ONE_FORM: CelRule = {
  rule: '!(has(self.configMap) && has(self.configRewrite) && self.configRewrite)',
  message:
    'metrics.redis.persist.configMap and metrics.redis.persist.configRewrite are exclusive: choose one',
  fieldPath: '.configRewrite',
  reason: 'FieldValueForbidden',
};
