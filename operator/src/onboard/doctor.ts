/**
 * `perfpilot doctor`'s checks, read-only I/O: the target objects, each signal's query against the
 * profile's Prometheus, every Redis node (reachable, authenticated, CONFIG permitted), the
 * operator's access to every object this profile needs, and who else owns the HPA and the fields
 * perfpilot writes. Nothing here writes: Redis gets CONFIG GET and ACL DRYRUN, never CONFIG SET;
 * the API server gets GETs and SelfSubjectAccessReviews.
 */
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  type V1ConfigMap,
  type V1PolicyRule,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { makeTargetClients } from '../actuators/context.ts';
import {
  disagreementOf,
  RATE_METRIC_AGREEMENT,
  rateMetricComparison,
  requestRateReadingOf,
  SCALES_ON_REQUEST_RATE,
} from '../actuators/replica-bounds.ts';
import { kubeSecretReader } from '../actuators/secrets.ts';
import { readIfExists } from '../actuators/server-side-apply.ts';
import {
  apiTargetReader,
  type ObservedTarget,
  observeTarget,
  poolEnvTargetOf,
  scalingToleranceOf,
} from '../actuators/targets.ts';
import {
  DEFAULT_STALENESS_SECONDS,
  hpaNameOf,
  Mode,
  maxMemoryPersistenceOf,
  type PerformanceProfile,
  poolPlaceOf,
  requestRateMetricOf,
  SIGNALS,
} from '../api/v1alpha1/index.ts';
import { createMetricSources } from '../metrics/index.ts';
import { readInstantValue } from '../metrics/prometheus-result.ts';
import { HISTORY_SIGNALS, LIVE_SIGNALS, signalQuery } from '../metrics/signals.ts';
import { endpointSetOf, RedisConnections, type RedisEndpointSet } from '../redis/connections.ts';
import { DEFAULT_HPA_TOLERANCE } from '../tuning/tuning-spec.ts';
import type { DoctorLine, Verdict } from './doctor-report.ts';
import {
  DEPLOYMENT_FIELDS,
  foreignOwners,
  HPA_FIELDS,
  HPA_METRICS_FIELD,
  handOverCommands,
  kedaOwnerOf,
  poolEnvFields,
  redisConfigMapFields,
  SCALED_OBJECT_FIELDS,
  tuningConfigMapFields,
  type WrittenField,
  type WrittenObject,
} from './field-owners.ts';
import { checkConfigRewrite, checkPersistenceTarget } from './redis-persistence-check.ts';
import {
  type AccessCheck,
  describeCheck,
  grantCommands,
  profileSecretNames,
  requiredAccess,
  serviceAccountOf,
} from './required-access.ts';
import { judgeSignal, type SignalAnswer } from './signal-verdict.ts';

/** What the checks need. */
export interface DoctorContext {
  /** kubeConfig is the current user's: every read is made as them. */
  readonly kubeConfig: KubeConfig;
  /** operatorRules gives the operator's Role for the Secrets a profile names (charts-ts's operatorRules). */
  readonly operatorRules: (secretNames: readonly string[]) => readonly V1PolicyRule[];
  /** as is whose access to check (impersonated); undefined checks the current user's own. */
  readonly as?: string;
  /** leaseNamespace is where the operator's Lease lives. @default the ServiceAccount's namespace in `as`, else perfpilot */
  readonly leaseNamespace?: string;
}

/** errorText is a short message for any error: an API error's status and message, not its headers. */
export function errorText(err: unknown): string {
  if (err instanceof ApiException) {
    let message = '';
    try {
      message = (JSON.parse(String(err.body)) as { message?: string }).message ?? '';
    } catch {
      message = String(err.body ?? '').slice(0, 200);
    }
    return `HTTP ${err.code}${message ? `: ${message}` : ''}`;
  }
  const base = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause ? errorText(err.cause) : '';
  return cause && !base.includes(cause) ? `${base}: ${cause}` : base;
}

/** runDoctor runs every check for `profile` and returns the report's lines, in the order they print. */
export async function runDoctor(ctx: DoctorContext, profile: PerformanceProfile): Promise<DoctorLine[]> {
  const target = await checkTarget(ctx, profile);
  const [signals, redis, access] = await Promise.all([
    checkSignals(ctx, profile, target.poolCapacity),
    checkRedis(ctx, profile),
    checkAccess(ctx, profile, target.scaledObjectName),
  ]);
  const metricName = requestRateMetricOf(profile);
  const agreement =
    metricName !== undefined && target.hpa && target.scaledObjectName === undefined
      ? [rateMetricLine(target.hpa, metricName, signals.requestsPerSecond, target.readyReplicas)]
      : [];
  return [...target.lines, ...signals.lines, ...redis, ...access, ...target.ownership, ...agreement];
}

const namespaceOf = (profile: PerformanceProfile) => profile.metadata.namespace ?? 'default';

/** The target objects: they exist, their knobs read, and who else owns what perfpilot writes. */
async function checkTarget(
  ctx: DoctorContext,
  profile: PerformanceProfile,
): Promise<{
  lines: DoctorLine[];
  ownership: DoctorLine[];
  poolCapacity?: number;
  /**
   * scaledObjectName is the KEDA ScaledObject whose bounds are tuned: named in the profile, or the
   * owner of the HPA; undefined when the target could not be read (the profile's name then stands).
   */
  scaledObjectName?: string;
  /** hpa is the HPA as read, for the checks that compare it with the metrics. */
  hpa?: V2HorizontalPodAutoscaler;
  /** readyReplicas is the Deployment's ready pods. */
  readyReplicas?: number;
}> {
  const clients = makeTargetClients(ctx.kubeConfig);
  const namespace = namespaceOf(profile);
  const { targetRef } = profile.spec;
  let observed: Awaited<ReturnType<typeof observeTarget>>;
  try {
    observed = await observeTarget(apiTargetReader(clients), profile);
  } catch (err) {
    const line: DoctorLine = {
      verdict: 'fail',
      check: 'target',
      detail: `cannot read the target: ${errorText(err)}`,
      fix: 'check the kubeconfig and that you may get Deployments, HPAs and ConfigMaps in the namespace',
    };
    return { lines: [line], ownership: [] };
  }
  const place = poolPlaceOf(targetRef);
  const keda = targetRef.scaledObjectName ?? kedaOwnerOf(observed.hpa?.metadata?.ownerReferences);
  const objects: [string, string, unknown][] = [
    ['Deployment', targetRef.name, observed.deployment],
    ['HorizontalPodAutoscaler', hpaNameOf(targetRef), observed.hpa],
    ...(place.kind === 'configMap'
      ? [['ConfigMap', place.name, observed.configMap] as [string, string, unknown]]
      : []),
    ...(keda !== undefined
      ? [['ScaledObject', keda, observed.scaledObject] as [string, string, unknown]]
      : []),
  ];
  const lines: DoctorLine[] = objects.map(([kind, name, found]) =>
    found
      ? { verdict: 'ok', check: `target ${kind}`, detail: `${namespace}/${name} found` }
      : {
          verdict: 'fail',
          check: `target ${kind}`,
          detail: `${namespace}/${name} not found: the profile goes Ready=False (TargetNotFound) and changes nothing`,
          fix:
            kind === 'ConfigMap'
              ? `create ConfigMap ${name} with the pool's keys, which the pods read, or say where the pool is in spec.targetRef.pool (configMap, env or none)`
              : kind === 'ScaledObject'
                ? `install KEDA and create ScaledObject ${name}, or name the right one in spec.targetRef.scaledObjectName`
                : `create it, or name the right one in spec.targetRef.${kind === 'Deployment' ? 'name' : 'hpaName'}`,
        },
  );
  for (const [knob, why] of Object.entries(observed.untunedKnobs ?? {})) {
    if (knob !== 'poolSize') continue;
    lines.push({
      verdict: 'fail',
      check: 'target pool',
      detail: `not tunable: ${why}`,
      fix: 'set the pool env var with a plain value, or point spec.targetRef.pool at where it is set',
    });
  }
  if (place.kind === 'env' && observed.deployment && !observed.untunedKnobs?.poolSize) {
    lines.push({
      verdict: 'ok',
      check: 'target pool',
      detail: `container ${place.container} sets ${[place.sizeVar, place.overflowVar].filter(Boolean).join(' and ')} with a value: a change rolls the pods, at most once per cooldown${place.overflowVar ? '' : '; no overflow, so the connection budget counts the size alone'}`,
    });
  }
  if (place.kind === 'none') {
    lines.push({
      verdict: 'ok',
      check: 'target pool',
      detail: 'pool: none: the pool is not tuned and the connection budget not checked; the other knobs are',
    });
  }
  for (const problem of observed.problems) {
    lines.push({
      verdict: 'fail',
      check: 'target knobs',
      detail: problem,
      fix:
        place.kind === 'env'
          ? 'set the pool env vars to whole numbers ≥ 0'
          : 'write whole numbers ≥ 0 in the tuning ConfigMap',
    });
  }
  const { poolSize, maxOverflow } = observed.current;
  const poolCapacity =
    poolSize !== undefined && maxOverflow !== undefined ? poolSize + maxOverflow : undefined;

  const redisSource = profile.spec.metrics.redis;
  const persistence = redisSource ? maxMemoryPersistenceOf(redisSource) : undefined;
  const redisConfigMapName = persistence?.kind === 'configMap' ? persistence.name : undefined;
  let redisConfigMap: V1ConfigMap | undefined;
  if (redisConfigMapName) {
    redisConfigMap = await readIfExists(() =>
      clients.core.readNamespacedConfigMap({ namespace, name: redisConfigMapName }),
    ).catch(() => undefined);
  }
  const ownership: DoctorLine[] = [];
  if (observed.hpa) {
    ownership.push(
      keda
        ? {
            verdict: 'ok',
            check: 'HPA owner',
            detail: `KEDA owns this HPA (ScaledObject ${keda}): perfpilot tunes minReplicaCount/maxReplicaCount on the ScaledObject and never writes the HPA`,
          }
        : {
            verdict: 'ok',
            check: 'HPA owner',
            detail: observed.hpa.metadata?.ownerReferences?.length
              ? `HorizontalPodAutoscaler ${hpaNameOf(targetRef)} is owned by ${observed.hpa.metadata.ownerReferences.map((o) => `${o.kind} ${o.name}`).join(', ')}, not by KEDA`
              : `no controller owns HorizontalPodAutoscaler ${hpaNameOf(targetRef)}`,
          },
    );
    ownership.push(hpaToleranceLine(observed.hpa));
    ownership.push(...hpaTargetLines(profile, observed));
  }
  const written: [WrittenObject | undefined, readonly WrittenField[]][] = [
    keda === undefined
      ? [
          observed.hpa && { ...observed.hpa, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
          profile.spec.knobs.hpaTarget === undefined ? HPA_FIELDS : [...HPA_FIELDS, HPA_METRICS_FIELD],
        ]
      : [observed.scaledObject as WrittenObject | undefined, SCALED_OBJECT_FIELDS],
    [
      observed.configMap && { ...observed.configMap, apiVersion: 'v1', kind: 'ConfigMap' },
      place.kind === 'configMap'
        ? tuningConfigMapFields({
            size: place.sizeKey,
            ...(place.overflowKey ? { overflow: place.overflowKey } : {}),
          })
        : [],
    ],
    [
      observed.deployment && { ...observed.deployment, apiVersion: 'apps/v1', kind: 'Deployment' },
      place.kind === 'env'
        ? poolEnvFields(poolEnvTargetOf(namespace, targetRef.name, place))
        : DEPLOYMENT_FIELDS,
    ],
    [
      redisConfigMap && { ...redisConfigMap, apiVersion: 'v1', kind: 'ConfigMap' },
      redisConfigMapFields(persistence?.kind === 'configMap' ? persistence.key : undefined),
    ],
  ];
  const auto = profile.spec.mode === Mode.Auto;
  for (const [object, fields] of written) {
    if (!object) continue;
    const check = `fields of ${object.kind} ${object.metadata?.name}`;
    const owners = foreignOwners(object.metadata?.managedFields, fields);
    if (owners.length === 0) {
      ownership.push({ verdict: 'ok', check, detail: 'no other field manager owns what perfpilot writes' });
      continue;
    }
    const byManager = new Map<string, string[]>();
    for (const o of owners)
      byManager.set(`${o.manager} (${o.operation})`, [
        ...(byManager.get(`${o.manager} (${o.operation})`) ?? []),
        o.field,
      ]);
    const who = [...byManager].map(([manager, f]) => `${manager} owns ${f.join(', ')}`).join('; ');
    ownership.push({
      verdict: auto ? 'fail' : 'warn',
      check,
      detail: `${who}: ${auto ? 'in Auto, perfpilot’s first change of them is refused (409 Conflict)' : 'perfpilot writes nothing in this mode; in Auto its first change would be refused (409 Conflict)'}`,
      fix: `hand them to perfpilot at their current values (nothing changes but the owner):\n${handOverCommands(object, fields, owners)}`,
    });
  }
  return {
    lines,
    ownership,
    ...(poolCapacity !== undefined ? { poolCapacity } : {}),
    ...(keda !== undefined ? { scaledObjectName: keda } : {}),
    ...(observed.hpa ? { hpa: observed.hpa } : {}),
    ...(observed.deployment ? { readyReplicas: observed.deployment.status?.readyReplicas ?? 0 } : {}),
  };
}

function secretReaderFor(ctx: DoctorContext) {
  const read = kubeSecretReader(ctx.kubeConfig.makeApiClient(CoreV1Api));
  return async (namespace: string, ref: { readonly name: string; readonly key: string }) => {
    try {
      return await read({ namespace, ...ref });
    } catch (err) {
      throw new Error(`Secret ${namespace}/${ref.name} key "${ref.key}": ${errorText(err)}`);
    }
  };
}

/** Each signal's query, run once against the profile's Prometheus, with its age query. */
async function checkSignals(
  ctx: DoctorContext,
  profile: PerformanceProfile,
  poolCapacity: number | undefined,
): Promise<{ lines: DoctorLine[]; requestsPerSecond?: number }> {
  const source = profile.spec.metrics.prometheus;
  if (!source) {
    return {
      lines: [
        {
          verdict: 'fail',
          check: 'Prometheus',
          detail: 'spec.metrics.prometheus is not set: every signal is unknown and nothing is tuned',
          fix: 'set spec.metrics.prometheus.url to the Prometheus that scrapes this service',
        },
      ],
    };
  }
  const sources = createMetricSources({ readSecret: secretReaderFor(ctx) });
  try {
    let client: Awaited<ReturnType<typeof sources.prometheus>>;
    try {
      client = await sources.prometheus(profile);
    } catch (err) {
      return {
        lines: [
          {
            verdict: 'fail',
            check: 'Prometheus credentials',
            detail: errorText(err),
            fix: 'create the Secret and key the profile names, or fix the reference (spec.metrics.prometheus)',
          },
        ],
      };
    }
    if (!client) return { lines: [] };
    const prometheus = client;
    const vars = {
      namespace: namespaceOf(profile),
      deployment: profile.spec.targetRef.name,
      ...(poolCapacity !== undefined ? { poolCapacity } : {}),
    };
    const signals = SIGNALS.filter((s) => LIVE_SIGNALS.includes(s) || HISTORY_SIGNALS.includes(s));
    // The request rate as read, for the check that the HPA's request-rate metric counts the same.
    let requestsPerSecond: number | undefined;
    const lines = await Promise.all(
      signals.map(async (signal) => {
        const built = signalQuery(source, signal, vars);
        const base = {
          signal,
          live: LIVE_SIGNALS.includes(signal),
          stalenessSeconds: source.stalenessSeconds ?? DEFAULT_STALENESS_SECONDS,
          selector: `namespace="${vars.namespace}", job="${vars.deployment}"`,
        };
        if ('problem' in built)
          return judgeSignal({ ...base, overridden: false }, { problem: built.problem });
        let answer: SignalAnswer;
        try {
          const [data, age, events] = await Promise.all([
            prometheus.query(built.query),
            built.ageQuery ? prometheus.query(built.ageQuery) : Promise.resolve(undefined),
            built.eventsQuery ? prometheus.query(built.eventsQuery) : Promise.resolve(undefined),
          ]);
          answer = {
            data,
            ...(age === undefined ? {} : { age }),
            ...(events === undefined ? {} : { events }),
          };
        } catch (err) {
          answer = { error: errorText(err) };
        }
        if (signal === 'requestsPerSecond' && 'data' in answer) {
          const read = readInstantValue(signal, answer.data);
          if ('value' in read) requestsPerSecond = read.value;
        }
        return judgeSignal({ ...base, query: built.query, overridden: built.overridden }, answer);
      }),
    );
    return { lines, ...(requestsPerSecond === undefined ? {} : { requestsPerSecond }) };
  } finally {
    sources.close();
  }
}

const AUTH_FAILURE = /WRONGPASS|NOAUTH|invalid password|invalid username-password/i;

/** What the operator does on a node that refuses CONFIG, for the fix of the lines that find one. */
const MANAGED_REDIS_FALLBACK =
  'As it is (a managed Redis), the operator reads maxmemory from INFO and recommends it, never applies it: in Auto, Degraded says KnobNotActuatable, and the other knobs are still tuned.';

/** Every Redis node: reachable, authenticated, CONFIG GET answered, CONFIG SET permitted by its ACL. */
async function checkRedis(ctx: DoctorContext, profile: PerformanceProfile): Promise<DoctorLine[]> {
  const source = profile.spec.metrics.redis;
  const namespace = namespaceOf(profile);
  if (!source) {
    return [
      {
        verdict: 'fail',
        check: 'Redis',
        detail: 'spec.metrics.redis is not set: the engine needs the cache’s signals, so nothing is tuned',
        fix: 'set spec.metrics.redis.endpoints to the host:port of your Redis nodes',
      },
    ];
  }
  const read = secretReaderFor(ctx);
  let password: string | undefined;
  let ca: string | undefined;
  let sentinelPassword: string | undefined;
  try {
    if (source.passwordSecretRef) password = await read(namespace, source.passwordSecretRef);
    if (source.tls?.caBundleSecretRef) ca = await read(namespace, source.tls.caBundleSecretRef);
    if (source.sentinel?.passwordSecretRef)
      sentinelPassword = await read(namespace, source.sentinel.passwordSecretRef);
  } catch (err) {
    return [
      {
        verdict: 'fail',
        check: 'Redis credentials',
        detail: errorText(err),
        fix: 'create the Secret and key the profile names (spec.metrics.redis.passwordSecretRef), and let the operator get it by name',
      },
    ];
  }
  const secretName = source.passwordSecretRef
    ? `Secret ${namespace}/${source.passwordSecretRef.name} key "${source.passwordSecretRef.key}"`
    : 'no password (spec.metrics.redis.passwordSecretRef is not set)';
  const { sentinel } = source;
  const set = endpointSetOf(source, { password, sentinelPassword, ca });
  const persistence = maxMemoryPersistenceOf(source);
  const connections = new RedisConnections();
  try {
    const topology = await connections.discover(set);
    const lines: DoctorLine[] = sentinel
      ? topology.unreachable.map((u) => sentinelLine(u.address, u.error))
      : topology.unreachable.map((u) => unreachableLine(u.address, u.error, secretName, set.username));
    if (sentinel && topology.nodes.length > 0) {
      const master = topology.nodes.find((n) => n.role === 'master');
      lines.push({
        verdict: 'ok',
        check: 'Redis Sentinel',
        detail: `master "${sentinel.masterName}" at ${master?.address ?? 'unknown'} with ${topology.nodes.length - 1} replica(s), found through the Sentinels at every cycle`,
      });
    }
    for (const node of topology.nodes) {
      lines.push(await checkRedisNode(connections, set, node.address, node.role, node.failing, secretName));
      if (persistence.kind === 'configRewrite' && !node.failing)
        lines.push(await checkConfigRewrite(connections, set, node.address));
    }
    lines.push(await checkPersistenceTarget(ctx.kubeConfig.makeApiClient(CoreV1Api), namespace, persistence));
    if (lines.length === 0) {
      lines.push({
        verdict: 'fail',
        check: 'Redis',
        detail: `no node found behind ${(sentinel?.endpoints ?? source.endpoints ?? []).join(', ')}`,
        fix: sentinel ? 'check spec.metrics.redis.sentinel' : 'check spec.metrics.redis.endpoints',
      });
    }
    return lines;
  } finally {
    await connections.close();
  }
}

function sentinelLine(address: string, error: string): DoctorLine {
  return {
    verdict: 'fail',
    check: `Redis Sentinel ${address}`,
    detail: `did not name the master: ${error.replace(/^Sentinel /, '').replace(`${address}: `, '')}`,
    fix: AUTH_FAILURE.test(error)
      ? 'check the Secret in spec.metrics.redis.sentinel.passwordSecretRef (the Sentinels’ requirepass)'
      : 'check spec.metrics.redis.sentinel.endpoints and masterName (SENTINEL MASTERS lists the names), and that the operator’s pod may reach the Sentinels',
  };
}

/** withoutAddress drops the `host:port: ` the connections put before a node's errors: the line names the node. */
function withoutAddress(address: string, error: string): string {
  return error.startsWith(`${address}: `) ? error.slice(address.length + 2) : error;
}

function unreachableLine(address: string, raw: string, secretName: string, username?: string): DoctorLine {
  const error = withoutAddress(address, raw);
  const auth = AUTH_FAILURE.test(error);
  return {
    verdict: 'fail',
    check: `Redis ${address}`,
    detail: auth ? `authentication failed: ${error}` : `unreachable: ${error}`,
    fix: auth
      ? `check that ${secretName} holds this node's password (${username === undefined ? 'requirepass' : `ACL user ${username}`})`
      : 'check the endpoint in spec.metrics.redis.endpoints, and that this machine and the operator’s pod may reach it (NetworkPolicy)',
  };
}

async function checkRedisNode(
  connections: RedisConnections,
  set: RedisEndpointSet,
  address: string,
  role: string,
  failing: boolean,
  secretName: string,
): Promise<DoctorLine> {
  const check = `Redis ${address}`;
  if (failing) {
    return {
      verdict: 'fail',
      check,
      detail: `${role}: the cluster flags it as failing`,
      fix: 'repair or replace the node',
    };
  }
  let maxmemory: string;
  try {
    const reply = (await connections.command(set, address, ['CONFIG', 'GET', 'maxmemory'])) as string[];
    maxmemory = String(reply[1] ?? '');
  } catch (err) {
    const error = withoutAddress(address, errorText(err));
    if (AUTH_FAILURE.test(error)) return unreachableLine(address, error, secretName, set.username);
    return {
      verdict: 'fail',
      check,
      detail: `${role}, CONFIG GET maxmemory refused: ${error}; perfpilot can neither read nor set maxmemory`,
      fix: `allow CONFIG GET and CONFIG SET to the user the profile authenticates as (ACL SETUSER <user> +config|get +config|set; a renamed CONFIG command cannot be used). ${MANAGED_REDIS_FALLBACK}`,
    };
  }
  // The profile's ACL user is known; WHOAMI asks only for the default one (a least-ACL user may not run it).
  let user = set.username ?? 'default';
  let dryRun: string;
  try {
    if (set.username === undefined) user = String(await connections.command(set, address, ['ACL', 'WHOAMI']));
    dryRun = String(
      await connections.command(set, address, [
        'ACL',
        'DRYRUN',
        user,
        'CONFIG',
        'SET',
        'maxmemory',
        maxmemory,
      ]),
    );
  } catch (err) {
    return {
      verdict: 'warn',
      check,
      detail: `${role}, authenticated${set.username === undefined ? '' : ` as ${user}`}, maxmemory ${maxmemory}; CONFIG SET not checked: ACL DRYRUN is not available (${withoutAddress(address, errorText(err))}), and doctor never runs CONFIG SET`,
      fix: `ask an admin to run ACL DRYRUN ${user} CONFIG SET maxmemory ${maxmemory}, or watch the profile's first change in Auto`,
    };
  }
  if (dryRun !== 'OK') {
    return {
      verdict: 'fail',
      check,
      detail: `${role}, authenticated, maxmemory ${maxmemory}; CONFIG SET denied to user ${user}: ${dryRun}`,
      fix: `ACL SETUSER ${user} +config|set (and +config|get), on every node; or leave maxmemory to someone else (recommend-only). ${MANAGED_REDIS_FALLBACK}`,
    };
  }
  return {
    verdict: 'ok',
    check,
    detail: `${role}, authenticated as ${user}, maxmemory ${maxmemory}, CONFIG SET permitted (ACL DRYRUN)`,
  };
}

/** impersonating is `base` with every request sent as `user` (Impersonate-User). */
function impersonating(base: KubeConfig, user: string): KubeConfig {
  const kc = new KubeConfig();
  const current = base.getCurrentUser()?.name;
  kc.loadFromOptions({
    clusters: base.clusters,
    users: base.users.map((u) => (u.name === current ? { ...u, impersonateUser: user } : u)),
    contexts: base.contexts,
    currentContext: base.currentContext,
  });
  return kc;
}

/**
 * Every verb on every object this profile needs, by SelfSubjectAccessReview as `ctx.as`; the KEDA
 * ScaledObject's only when `scaledObjectName` (or spec.targetRef.scaledObjectName) names one.
 */
async function checkAccess(
  ctx: DoctorContext,
  profile: PerformanceProfile,
  scaledObjectName: string | undefined,
): Promise<DoctorLine[]> {
  const who = ctx.as ?? 'the current user';
  const leaseNamespace = ctx.leaseNamespace ?? (ctx.as && serviceAccountOf(ctx.as)?.namespace) ?? 'perfpilot';
  const rules = ctx.operatorRules(profileSecretNames(profile));
  const needs = requiredAccess(rules, profile, leaseNamespace, scaledObjectName);
  const api = (ctx.as ? impersonating(ctx.kubeConfig, ctx.as) : ctx.kubeConfig).makeApiClient(
    AuthorizationV1Api,
  );
  const review = async (c: AccessCheck): Promise<boolean> => {
    const answer = await api.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            verb: c.verb,
            group: c.group,
            resource: c.resource,
            namespace: c.namespace,
            ...(c.subresource ? { subresource: c.subresource } : {}),
            ...(c.name ? { name: c.name } : {}),
          },
        },
      },
    });
    return answer.status?.allowed === true;
  };
  try {
    return await Promise.all(
      needs.map(async (need) => {
        const answers = await Promise.all(need.checks.map(review));
        const denied = need.checks.filter((_, i) => !answers[i]);
        const verbs = [...new Set(need.checks.map((c) => c.verb))].join(', ');
        const names = [...new Set(need.checks.map((c) => c.name).filter(Boolean))].join(', ');
        const check = `access ${need.resource}`;
        if (denied.length === 0) {
          return {
            verdict: 'ok' as Verdict,
            check,
            detail: `${verbs} in ${need.namespace}${names ? ` (${names})` : ''}: allowed for ${who}`,
          };
        }
        return {
          verdict: 'fail' as Verdict,
          check,
          detail: `denied for ${who}: ${denied.map(describeCheck).join('; ')}`,
          fix: ctx.as ? grantCommands(ctx.as, denied) : 'grant these verbs to the operator’s ServiceAccount',
        };
      }),
    );
  } catch (err) {
    const error = errorText(err);
    return [
      {
        verdict: 'fail',
        check: 'access',
        detail: `cannot ask as ${who}: ${error}`,
        fix: /impersonate/i.test(error)
          ? 'run doctor as a user who may impersonate the operator’s ServiceAccount, or pass --no-as to check your own access'
          : 'check the kubeconfig',
      },
    ];
  }
}

/**
 * hpaTargetLines says, for each HPA target the profile tunes (`spec.knobs.hpaTarget`: the CPU
 * target, and with `requestRate` the named metric's), the value in force, or why the operator
 * holds it: a warning, since the profile asked for a target this HPA does not let it tune.
 */
export function hpaTargetLines(
  profile: PerformanceProfile,
  observed: Pick<ObservedTarget, 'current' | 'untunedKnobs'>,
): DoctorLine[] {
  const hpaTarget = profile.spec.knobs.hpaTarget;
  if (hpaTarget === undefined) return [];
  const line = (check: string, held: string | undefined, value: string, fix: string): DoctorLine =>
    held === undefined
      ? { verdict: 'ok', check, detail: `${value}: the operator tunes it` }
      : held === SCALES_ON_REQUEST_RATE
        ? { verdict: 'ok', check, detail: held }
        : { verdict: 'warn', check, detail: held, fix };
  const lines = [
    line(
      'HPA CPU target',
      observed.untunedKnobs?.hpaTargetCpuPercent,
      `${observed.current.hpaTargetCpuPercent} % (the Resource cpu metric's averageUtilization)`,
      'give the HPA a Resource cpu metric with target.type Utilization, or leave the CPU target to the HPA as written',
    ),
  ];
  const rate = hpaTarget.requestRate;
  if (rate !== undefined) {
    lines.push(
      line(
        'HPA request-rate target',
        observed.untunedKnobs?.hpaTargetRequestsPerPod,
        `${observed.current.hpaTargetRequestsPerPod} requests/s a pod (${rate.metricName}'s averageValue)`,
        `name in spec.knobs.hpaTarget.requestRate.metricName a Pods, Object or External metric of the HPA with target.type AverageValue (now ${rate.metricName})`,
      ),
    );
  }
  return lines;
}

/**
 * rateMetricLine says whether the HPA's request-rate metric (`spec.knobs.hpaTarget.requestRate`)
 * counts the requests the profile measures: the HPA's last reading of it against the profile's
 * request rate per pod, as the operator compares them before it tunes that target.
 */
export function rateMetricLine(
  hpa: V2HorizontalPodAutoscaler,
  metricName: string,
  requestsPerSecond: number | undefined,
  readyReplicas: number | undefined,
): DoctorLine {
  const check = 'HPA request-rate metric';
  const reading = requestRateReadingOf(hpa, metricName);
  if (reading === undefined) {
    return {
      verdict: 'warn',
      check,
      detail: `the HPA has no reading of ${metricName} in status.currentMetrics: it cannot scale on it, and the operator cannot check that it counts the profile's requests`,
      fix: `check that the metrics adapter serves ${metricName} (kubectl describe hpa ${hpa.metadata?.name ?? ''} shows its conditions)`,
    };
  }
  if (requestsPerSecond === undefined || readyReplicas === undefined) {
    return {
      verdict: 'warn',
      check,
      detail: `the HPA reads ${metricName} at ${reading}/pod; the profile's request rate was not read, so they are not compared`,
      fix: 'make the requestsPerSecond signal answer (above)',
    };
  }
  const comparison = rateMetricComparison(hpa, metricName, { requestsPerSecond, readyReplicas });
  const disagreement = disagreementOf(comparison);
  if (disagreement !== undefined) {
    return {
      verdict: 'warn',
      check,
      detail: `${disagreement}: the operator holds the request-rate target`,
      fix: `name in spec.knobs.hpaTarget.requestRate.metricName a metric that counts the requests of the profile's request rate, per second (or make spec.metrics.prometheus.queries.requestsPerSecond count the same)`,
    };
  }
  if (comparison === undefined) {
    return {
      verdict: 'warn',
      check,
      detail: `the HPA reads ${metricName} at ${reading}/pod; no request or no pod was counted, so they are not compared`,
      fix: 'check again under load',
    };
  }
  return {
    verdict: 'ok',
    check,
    detail: `the HPA reads ${metricName} at ${+comparison.perPod.toPrecision(4)}/pod, the profile ${+comparison.profilePerPod.toPrecision(4)}/pod on ${comparison.pods} pods: within ${Math.round((RATE_METRIC_AGREEMENT - 1) * 100)} %, the same requests`,
  };
}

/**
 * hpaToleranceLine says which tolerance per direction the operator models the HPA with: the HPA's
 * own (`spec.behavior.*.tolerance`) or the cluster's default.
 */
export function hpaToleranceLine(hpa: V2HorizontalPodAutoscaler): DoctorLine {
  const direction = (name: 'scaleUp' | 'scaleDown', label: string) => {
    const own = scalingToleranceOf(hpa.spec?.behavior?.[name]);
    const value = own ?? DEFAULT_HPA_TOLERANCE[name];
    return `${label} ${+(value * 100).toFixed(1)} % (${own === undefined ? 'the cluster default' : `spec.behavior.${name}.tolerance`})`;
  };
  return {
    verdict: 'ok',
    check: 'HPA tolerance',
    detail: `${direction('scaleUp', 'scale-up')}, ${direction('scaleDown', 'scale-down')}: the operator sizes the HPA target's steps and the replica floor by these`,
  };
}
