/**
 * The pool actuator of the env form: the pool size (and overflow, when the profile names one) as
 * plain `value` env vars of one container of the API Deployment. A change is a change of the pod
 * template, so the Deployment rolls the pods itself; like the ConfigMap form it happens at most
 * once per cooldown, counted from CONFIG_ROLLED_AT_ANNOTATION on the Deployment. The write is a
 * server-side apply as `perfpilot` holding only those env values and the annotations; an env var
 * set from a ConfigMap or Secret reference (`valueFrom`) is reported, never replaced by a value.
 */
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import type { ActuatorContext } from './context.ts';
import {
  CONFIG_ROLLED_AT_ANNOTATION,
  heldRollout,
  type PoolSettings,
  type PoolSettingsResult,
  parsePoolKnob,
  type RolloutGuard,
  validatePoolSettings,
} from './pool-settings.ts';
import { type ApplyOptions, applyFields, readIfExists, recordAnnotation } from './server-side-apply.ts';

/** Where the env form's pool lives. */
export interface PoolEnvTarget {
  readonly namespace: string;
  /** deployment is the API Deployment's name. */
  readonly deployment: string;
  /** container is the container whose env vars hold the pool. */
  readonly container: string;
  /** sizeVar is the pool size's env var. */
  readonly sizeVar: string;
  /** overflowVar is the overflow's env var; absent for a pool with a size only. */
  readonly overflowVar?: string;
}

/** What the Deployment says of the env form's pool. */
export type PoolEnvReading =
  | { readonly kind: 'read'; readonly pool: Partial<PoolSettings>; readonly problems: readonly string[] }
  /** notActuatable: the operator cannot write the pool there, and `message` says why. */
  | { readonly kind: 'notActuatable'; readonly message: string };

/**
 * readPoolEnv reads the pool from the Deployment's pod template: each env var must be set with
 * `value`. A missing container or env var, or one set from `valueFrom`, is `notActuatable` with a
 * message naming it; a value that is no whole number ≥ 0 is a problem, and that knob stays unknown.
 */
export function readPoolEnv(deployment: V1Deployment, target: PoolEnvTarget): PoolEnvReading {
  const name = `Deployment ${target.deployment}`;
  const container = deployment.spec?.template.spec?.containers.find((c) => c.name === target.container);
  if (!container) {
    const names = deployment.spec?.template.spec?.containers.map((c) => c.name).join(', ') ?? '';
    return {
      kind: 'notActuatable',
      message: `${name} has no container "${target.container}" (it has ${names || 'none'}): set spec.targetRef.pool.env.container`,
    };
  }
  const vars = [
    ['poolSize', target.sizeVar],
    ...(target.overflowVar === undefined ? [] : [['maxOverflow', target.overflowVar] as const]),
  ] as const;
  const pool: { poolSize?: number; maxOverflow?: number } =
    target.overflowVar === undefined ? { maxOverflow: 0 } : {};
  const problems: string[] = [];
  for (const [knob, varName] of vars) {
    const env = envVar(container, varName);
    if (!env) {
      return {
        kind: 'notActuatable',
        message: `${name} container "${target.container}" does not set ${varName}: give it a value (env: [{name: ${varName}, value: "…"}]) so the operator can tune it`,
      };
    }
    if (env.valueFrom) {
      const from = env.valueFrom.configMapKeyRef
        ? `ConfigMap ${env.valueFrom.configMapKeyRef.name} key ${env.valueFrom.configMapKeyRef.key}`
        : env.valueFrom.secretKeyRef
          ? `Secret ${env.valueFrom.secretKeyRef.name} key ${env.valueFrom.secretKeyRef.key}`
          : 'a field or resource reference';
      return {
        kind: 'notActuatable',
        message: `${name} container "${target.container}" sets ${varName} from ${from} (valueFrom), which the operator does not rewrite: point spec.targetRef.pool.configMap at that ConfigMap, or set the env var with a value`,
      };
    }
    const value = parsePoolKnob(env.value);
    if (value === undefined)
      problems.push(`${name} env ${varName} is "${env.value ?? ''}", not a whole number ≥ 0`);
    else pool[knob] = value;
  }
  return { kind: 'read', pool, problems };
}

function envVar(container: V1Container, name: string) {
  return container.env?.find((e) => e.name === name);
}

/**
 * poolEnvApplyBody is the server-side apply body of a pool change: the container's pool env vars
 * with their new values and the Deployment's roll time, nothing else, so the other fields of the
 * Deployment stay with their managers.
 */
export function poolEnvApplyBody(
  target: PoolEnvTarget,
  settings: PoolSettings,
  rolledAt: Date,
  annotations: Record<string, string> = {},
) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: target.deployment,
      namespace: target.namespace,
      annotations: { [CONFIG_ROLLED_AT_ANNOTATION]: rolledAt.toISOString(), ...annotations },
    },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: target.container,
              env: [
                { name: target.sizeVar, value: String(settings.poolSize) },
                ...(target.overflowVar === undefined
                  ? []
                  : [{ name: target.overflowVar, value: String(settings.maxOverflow) }]),
              ],
            },
          ],
        },
      },
    },
  };
}

/**
 * applyPoolEnv sets the pool's env vars on the Deployment's container, which rolls the pods,
 * unless they already hold the values (`unchanged`) or the last roll was less than
 * `guard.cooldownSeconds` ago (`deferred`). A var set from `valueFrom`, or missing, is
 * `notActuatable`; a field another manager owns is `conflict`; nothing is forced unless asked.
 */
export async function applyPoolEnv(
  ctx: Pick<ActuatorContext, 'clients'>,
  target: PoolEnvTarget,
  settings: PoolSettings,
  guard: RolloutGuard,
  options: ApplyOptions = {},
): Promise<PoolSettingsResult> {
  validatePoolSettings(settings);
  const { namespace } = target;
  const deployment = await readIfExists(() =>
    ctx.clients.apps.readNamespacedDeployment({ namespace, name: target.deployment }),
  );
  if (!deployment) return { kind: 'notFound', missing: [`Deployment ${namespace}/${target.deployment}`] };
  const reading = readPoolEnv(deployment, target);
  if (reading.kind === 'notActuatable')
    return { kind: 'notActuatable', before: {}, message: reading.message };
  const before = reading.pool;
  const wanted = (s: Partial<PoolSettings>) =>
    target.overflowVar === undefined ? `${s.poolSize}` : `${s.poolSize}+${s.maxOverflow}`;
  const held = heldRollout(
    deployment,
    { currentHash: wanted(before), desiredHash: wanted(settings) },
    guard,
    before,
  );
  if (held) return held;
  const live = deployment as Parameters<typeof applyFields>[1];
  const rolledAt = guard.now;
  const written = await applyFields(
    ctx.clients,
    poolEnvApplyBody(target, settings, rolledAt, recordAnnotation(live, options.record)),
    { ...options, live },
  );
  if (written.kind === 'conflict') return { ...written, before, configMapWritten: false };
  return {
    kind: 'applied',
    before,
    after: { ...settings },
    configHash: wanted(settings),
    rolledAt,
    changed: [`Deployment ${namespace}/${target.deployment}`],
  };
}
