/**
 * The draft profile `perfpilot init` writes: an `Observe` PerformanceProfile for what it found
 * of a Deployment, in which every field found or guessed carries a comment saying how (a pool in a
 * plain env var becomes `targetRef.pool.env`), and every fact the CRD cannot hold is a comment, not
 * a field, so the draft is accepted by the API server as written. Pure: the findings come from
 * read-workload.ts.
 */
import { Document, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { MAX_OVERFLOW_KEY, POOL_SIZE_KEY } from '../actuators/pool-settings.ts';
import { API_VERSION, KIND, Mode } from '../api/v1alpha1/index.ts';
import type { PoolSettingName } from './pool-setting-names.ts';

/** Where a pool setting was found. */
export type PoolSettingSource =
  | { readonly kind: 'env'; readonly container: string; readonly value?: string }
  | {
      readonly kind: 'configMap';
      readonly container: string;
      readonly configMap: string;
      readonly key: string;
      /** via: the whole ConfigMap as env (envFrom) or one key (configMapKeyRef). */
      readonly via: 'envFrom' | 'configMapKeyRef';
      readonly value?: string;
    };

/** A pool setting of the Deployment's pods: the env var's name, what it is, where its value lives. */
export interface FoundPoolSetting {
  readonly name: string;
  readonly setting: PoolSettingName;
  readonly source: PoolSettingSource;
}

/** What `perfpilot init` found of a Deployment and its namespace. */
export interface WorkloadFindings {
  readonly namespace: string;
  readonly deployment: string;
  /** hpa scales the Deployment (its scaleTargetRef), with its bounds and its KEDA owner, if any. */
  readonly hpa?: {
    readonly name: string;
    readonly minReplicas?: number;
    readonly maxReplicas: number;
    readonly scaledObject?: string;
  };
  readonly poolSettings: readonly FoundPoolSetting[];
  /** redisServices: Services of the namespace on port 6379 or with "redis" in their name. */
  readonly redisServices: readonly { readonly name: string; readonly port: number }[];
  /** redisPassword: an env var named like a Redis password, read from a Secret key. */
  readonly redisPassword?: {
    readonly env: string;
    readonly container: string;
    readonly secret: string;
    readonly key: string;
  };
}

/** Options of the draft. */
export interface DraftOptions {
  /** prometheusUrl given with --prometheus; without it the URL is a guess. */
  readonly prometheusUrl?: string;
}

/** GUESSED_PROMETHEUS_URL: the Service the Prometheus Operator creates for a Prometheus in `monitoring`. */
export const GUESSED_PROMETHEUS_URL = 'http://prometheus-operated.monitoring.svc:9090';

function describeSource(found: FoundPoolSetting): string {
  const { name, setting, source } = found;
  const value = source.value !== undefined ? ` = ${source.value}` : '';
  const what = `${setting.framework} ${setting.meaning}`;
  return source.kind === 'env'
    ? `env var ${name}${value} of container ${source.container} (${what})`
    : `ConfigMap ${source.configMap} key ${source.key}${value}, env var ${name} of container ${source.container} by ${source.via} (${what})`;
}

/** tuningConfigMapOf: the ConfigMap that holds the operator's pool keys and reaches the pods, if one does. */
export function tuningConfigMapOf(findings: WorkloadFindings): string | undefined {
  const keys = [POOL_SIZE_KEY, MAX_OVERFLOW_KEY];
  const byConfigMap = new Map<string, Set<string>>();
  for (const { name, source } of findings.poolSettings) {
    // The operator writes the key and the pods read it under the same name only through envFrom,
    // or a configMapKeyRef that keeps the name.
    if (source.kind === 'configMap' && keys.includes(source.key) && name === source.key) {
      byConfigMap.set(source.configMap, (byConfigMap.get(source.configMap) ?? new Set()).add(source.key));
    }
  }
  return [...byConfigMap].find(([, found]) => found.has(POOL_SIZE_KEY))?.[0];
}

/**
 * poolEnvOf: the env form of the pool when a container sets a recognised pool size env var with a
 * plain value (the operator rewrites only those), with the same container's overflow var if any.
 */
export function poolEnvOf(
  findings: WorkloadFindings,
): { container: string; sizeVar: string; overflowVar?: string } | undefined {
  const plain = (role: string, container?: string) =>
    findings.poolSettings.find(
      (p) =>
        p.source.kind === 'env' &&
        p.source.value !== undefined &&
        p.setting.role === role &&
        (container === undefined || p.source.container === container),
    );
  const size = plain('poolSize');
  if (!size) return undefined;
  const overflow = plain('maxOverflow', size.source.container);
  return {
    container: size.source.container,
    sizeVar: size.name,
    ...(overflow ? { overflowVar: overflow.name } : {}),
  };
}

function commentOn(map: YAMLMap, key: string, text: string): void {
  const pair = map.items.find((p) => (p.key as Scalar).value === key) as Pair<Scalar> | undefined;
  if (pair)
    pair.key.commentBefore = text
      .split('\n')
      .map((line) => ` ${line}`)
      .join('\n');
}

/**
 * draftProfile writes the profile for `findings` as YAML: mode Observe, the target, its HPA, the
 * tuning ConfigMap when one holds the operator's keys, Prometheus and Redis, each with a comment.
 * `now` dates the header.
 */
export function draftProfile(findings: WorkloadFindings, options: DraftOptions, now: Date): string {
  const { namespace, deployment, hpa } = findings;
  const configMap = tuningConfigMapOf(findings);
  const poolEnv = configMap ? undefined : poolEnvOf(findings);
  const redis = findings.redisServices[0];
  const profile = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: deployment, namespace },
    spec: {
      mode: Mode.Observe,
      targetRef: {
        name: deployment,
        ...(hpa ? { hpaName: hpa.name } : {}),
        ...(configMap ? { configMapName: configMap } : {}),
        ...(poolEnv ? { pool: { env: poolEnv } } : {}),
      },
      metrics: {
        prometheus: { url: options.prometheusUrl ?? GUESSED_PROMETHEUS_URL },
        ...(redis
          ? {
              redis: {
                endpoints: [`${redis.name}.${namespace}.svc:${redis.port}`],
                ...(findings.redisPassword
                  ? {
                      passwordSecretRef: {
                        name: findings.redisPassword.secret,
                        key: findings.redisPassword.key,
                      },
                    }
                  : {}),
              },
            }
          : {}),
      },
    },
  };
  const doc = new Document(profile);
  doc.commentBefore = [
    ` Draft PerformanceProfile for Deployment ${namespace}/${deployment}, written by perfpilot init`,
    ` on ${now.toISOString().slice(0, 10)}. Each field says how it was found or guessed: check the guesses,`,
    ` then run: perfpilot doctor --profile <this file>`,
  ].join('\n');
  const spec = doc.get('spec') as YAMLMap;
  const metadata = doc.get('metadata') as YAMLMap;
  commentOn(metadata, 'name', 'the Deployment’s name (one profile per Deployment)');
  commentOn(
    spec,
    'mode',
    'Observe: the operator measures and reports, and changes nothing. Move to Recommend, then Auto,\nonce perfpilot doctor says ok on every line.',
  );
  const targetRef = spec.get('targetRef') as YAMLMap;
  commentOn(targetRef, 'name', `found: Deployment ${namespace}/${deployment}`);
  if (hpa) {
    const bounds = `minReplicas ${hpa.minReplicas ?? 1}, maxReplicas ${hpa.maxReplicas}`;
    commentOn(
      targetRef,
      'hpaName',
      hpa.scaledObject
        ? `found: HPA ${hpa.name} scales this Deployment (${bounds}); KEDA ScaledObject ${hpa.scaledObject} owns it,\nso the operator tunes minReplicaCount/maxReplicaCount on the ScaledObject and never writes the HPA`
        : `found: HPA ${hpa.name} scales this Deployment (${bounds})`,
    );
  }
  const poolNotes = findings.poolSettings.map((found) => `pool: found ${describeSource(found)}`);
  if (configMap) {
    commentOn(
      targetRef,
      'configMapName',
      `found: ConfigMap ${configMap} holds ${POOL_SIZE_KEY}${findings.poolSettings.some((p) => p.source.kind === 'configMap' && p.source.configMap === configMap && p.source.key === MAX_OVERFLOW_KEY) ? ` and ${MAX_OVERFLOW_KEY}` : ''}, which the pods read: the operator tunes them there`,
    );
  }
  const notes = [
    ...(hpa ? [] : [`no HPA scales this Deployment: create one (autoscaling/v2) and name it in hpaName`]),
  ];
  if (poolEnv) {
    const pool = targetRef.get('pool') as YAMLMap;
    commentOn(
      pool,
      'env',
      `found: container ${poolEnv.container} sets ${poolEnv.sizeVar}${poolEnv.overflowVar ? ` and ${poolEnv.overflowVar}` : ''} with a value: the operator tunes it there,\na change of the pod template that rolls the pods (at most once per cooldown)${poolEnv.overflowVar ? '' : ';\nno overflow var, so the connection budget counts the size alone'}`,
    );
    notes.push(...poolNotes.filter((note) => !note.includes(`env var ${poolEnv.sizeVar} `)));
  } else if (!configMap) {
    notes.push(
      ...poolNotes,
      poolNotes.length > 0
        ? `The pool is not set with a plain value in an env var nor in a ConfigMap key the pods read under\nthe same name, so it is left out and the operator will report the tuning ConfigMap\n(${deployment}-tuning) as missing: point spec.targetRef.pool at it (configMap with its keys,\nenv), or write pool: {none: {}} to tune the other knobs only.`
        : `no pool setting found (HikariCP, SQLAlchemy, node-postgres, Go database/sql, Rails names):\nthe operator expects ${POOL_SIZE_KEY} and ${MAX_OVERFLOW_KEY} in ConfigMap ${deployment}-tuning (configMapName),\nor say where the pool is in spec.targetRef.pool (or pool: {none: {}})`,
    );
  } else {
    notes.push(...poolNotes.filter((note) => !note.includes(`ConfigMap ${configMap} `)));
  }
  if (notes.length > 0) {
    const pair = spec.items.find((p) => (p.key as Scalar).value === 'targetRef') as Pair<Scalar>;
    pair.key.commentBefore = notes
      .join('\n')
      .split('\n')
      .map((line) => ` ${line}`)
      .join('\n');
  }
  const metrics = spec.get('metrics') as YAMLMap;
  commentOn(
    metrics.get('prometheus') as YAMLMap,
    'url',
    options.prometheusUrl
      ? 'given: --prometheus'
      : 'guessed: the Prometheus Operator’s Service in namespace monitoring; put yours here',
  );
  if (redis) {
    const redisMap = metrics.get('redis') as YAMLMap;
    const others = findings.redisServices.slice(1).map((s) => `${s.name}:${s.port}`);
    commentOn(
      redisMap,
      'endpoints',
      `found: Service ${redis.name} (port ${redis.port}) in ${namespace}${others.length ? `; also ${others.join(', ')}` : ''}.\nFor a Redis Cluster any node will do; standalone, list every node.`,
    );
    if (findings.redisPassword) {
      const p = findings.redisPassword;
      commentOn(
        redisMap,
        'passwordSecretRef',
        `found: env var ${p.env} of container ${p.container} reads Secret ${p.secret} key ${p.key}`,
      );
    }
  } else {
    commentOn(
      spec,
      'metrics',
      `no Redis Service found in ${namespace} (port 6379, or "redis" in its name): add\nspec.metrics.redis.endpoints (host:port) and passwordSecretRef`,
    );
  }
  return doc.toString({ lineWidth: 0 });
}
