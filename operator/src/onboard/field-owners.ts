/**
 * Who else owns what perfpilot writes: the HPA's owner (a KEDA ScaledObject rewrites the HPA
 * from its own spec) and, in each object's managedFields, any other field manager of a field the
 * actuators apply (server-side apply refuses to change a field another manager owns: 409), with
 * the commands that hand those fields to perfpilot. Pure.
 */
import type { V1ManagedFieldsEntry, V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { PoolEnvTarget } from '../actuators/pool-env.ts';
import { CONFIG_ROLLED_AT_ANNOTATION, DEFAULT_POOL_KEYS, type PoolKeys } from '../actuators/pool-settings.ts';
import { scaledObjectOwnerOf } from '../actuators/replica-bounds.ts';
import { CONFIG_HASH_ANNOTATION, FIELD_MANAGER, REDIS_MAXMEMORY_CONFIG_KEY } from '../api/v1alpha1/index.ts';

/** An object perfpilot writes fields of, as read. */
export interface WrittenObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: V1ObjectMeta;
  readonly spec?: unknown;
  readonly data?: Record<string, string>;
}

/** One field perfpilot writes: its path in managedFields (`f:spec`, `f:minReplicas`) and as people write it. */
export interface WrittenField {
  readonly path: readonly string[];
  readonly display: string;
}

/** The fields each object's actuator applies (replica-bounds.ts, pool-settings.ts, redis-maxmemory.ts). */
export const HPA_FIELDS: readonly WrittenField[] = [
  { path: ['f:spec', 'f:minReplicas'], display: 'spec.minReplicas' },
  { path: ['f:spec', 'f:maxReplicas'], display: 'spec.maxReplicas' },
];
/**
 * HPA_METRICS_FIELD: the HPA's `spec.metrics`, written whole where the profile tunes the CPU or
 * request-rate target (`spec.knobs.hpaTarget`): an atomic list, owned all or nothing.
 */
export const HPA_METRICS_FIELD: WrittenField = { path: ['f:spec', 'f:metrics'], display: 'spec.metrics' };
export const TUNING_CONFIGMAP_FIELDS: readonly WrittenField[] = tuningConfigMapFields();
export const DEPLOYMENT_FIELDS: readonly WrittenField[] = [
  {
    path: ['f:spec', 'f:template', 'f:metadata', 'f:annotations', `f:${CONFIG_HASH_ANNOTATION}`],
    display: `spec.template.metadata.annotations["${CONFIG_HASH_ANNOTATION}"]`,
  },
  {
    path: ['f:metadata', 'f:annotations', `f:${CONFIG_ROLLED_AT_ANNOTATION}`],
    display: `metadata.annotations["${CONFIG_ROLLED_AT_ANNOTATION}"]`,
  },
];
/** tuningConfigMapFields: the pool's keys in its ConfigMap (the ConfigMap form, with the profile's keys). */
export function tuningConfigMapFields(keys: PoolKeys = DEFAULT_POOL_KEYS): WrittenField[] {
  return [keys.size, ...(keys.overflow === undefined ? [] : [keys.overflow])].map((key) => ({
    path: ['f:data', `f:${key}`],
    display: `data.${key}`,
  }));
}
/** SCALED_OBJECT_FIELDS: the bounds on a KEDA ScaledObject (scaled-object-bounds.ts). */
export const SCALED_OBJECT_FIELDS: readonly WrittenField[] = [
  { path: ['f:spec', 'f:minReplicaCount'], display: 'spec.minReplicaCount' },
  { path: ['f:spec', 'f:maxReplicaCount'], display: 'spec.maxReplicaCount' },
];
/**
 * poolEnvFields: the env form's fields of the Deployment (pool-env.ts): each pool env var's value
 * in its container (list items keyed by name, as managedFields keys them) and the roll time.
 */
export function poolEnvFields(
  target: Pick<PoolEnvTarget, 'container' | 'sizeVar' | 'overflowVar'>,
): WrittenField[] {
  const container = `k:${JSON.stringify({ name: target.container })}`;
  const vars = [target.sizeVar, ...(target.overflowVar === undefined ? [] : [target.overflowVar])];
  return [
    ...vars.map((name) => ({
      path: [
        'f:spec',
        'f:template',
        'f:spec',
        'f:containers',
        container,
        'f:env',
        `k:${JSON.stringify({ name })}`,
        'f:value',
      ],
      display: `spec.template.spec.containers[${target.container}].env[${name}].value`,
    })),
    {
      path: ['f:metadata', 'f:annotations', `f:${CONFIG_ROLLED_AT_ANNOTATION}`],
      display: `metadata.annotations["${CONFIG_ROLLED_AT_ANNOTATION}"]`,
    },
  ];
}

/** redisConfigMapFields is the key of the Redis ConfigMap that persists maxmemory. @default maxmemory.conf */
export function redisConfigMapFields(key: string = REDIS_MAXMEMORY_CONFIG_KEY): readonly WrittenField[] {
  return [{ path: ['f:data', `f:${key}`], display: `data["${key}"]` }];
}

/** A field perfpilot writes that another manager owns too. */
export interface ForeignOwner {
  readonly field: string;
  readonly manager: string;
  /** operation is how the manager wrote it: Apply (server-side apply) or Update (create, edit, client-side apply). */
  readonly operation: string;
  /** index of the manager's entry in metadata.managedFields, and the field's path in it. */
  readonly index: number;
  readonly path: readonly string[];
}

function hasPath(fields: unknown, path: readonly string[]): boolean {
  let node = fields;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

/** foreignOwners lists each written field that a manager other than perfpilot owns, by manager. */
export function foreignOwners(
  managedFields: readonly V1ManagedFieldsEntry[] | undefined,
  fields: readonly WrittenField[],
): ForeignOwner[] {
  const owners: ForeignOwner[] = [];
  (managedFields ?? []).forEach((entry, index) => {
    if (entry.manager === FIELD_MANAGER || entry.subresource) return;
    for (const field of fields) {
      if (hasPath(entry.fieldsV1, field.path)) {
        owners.push({
          field: field.display,
          manager: entry.manager ?? '(unnamed)',
          operation: entry.operation ?? '?',
          index,
          path: field.path,
        });
      }
    }
  });
  return owners;
}

/** kedaOwnerOf names the KEDA ScaledObject that owns an HPA, if one does. */
export function kedaOwnerOf(ownerReferences: readonly V1OwnerReference[] | undefined): string | undefined {
  return scaledObjectOwnerOf({ metadata: { ownerReferences: [...(ownerReferences ?? [])] } });
}

/** A managedFields list-item key, `k:{"name":"api"}`: the item of a list of named objects. */
function listItemName(segment: string): string | undefined {
  if (!segment.startsWith('k:')) return undefined;
  try {
    const key = JSON.parse(segment.slice(2)) as { name?: unknown };
    return typeof key.name === 'string' ? key.name : undefined;
  } catch {
    return undefined;
  }
}

function valueAt(object: WrittenObject, field: WrittenField): unknown {
  let node: unknown = object;
  for (const key of field.path) {
    if (typeof node !== 'object' || node === null) return undefined;
    const item = listItemName(key);
    node =
      item !== undefined && Array.isArray(node)
        ? node.find((n: { name?: unknown }) => n?.name === item)
        : (node as Record<string, unknown>)[key.slice(2)];
  }
  return node;
}

/** setAt sets a field of an apply body by its managedFields path (`f:` fields, `k:` list items). */
function setAt(body: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node: Record<string, unknown> | Record<string, unknown>[] = body;
  path.forEach((key, i) => {
    const last = i === path.length - 1;
    const item = listItemName(key);
    if (item !== undefined && Array.isArray(node)) {
      let found = node.find((n) => n.name === item);
      if (!found) {
        found = { name: item };
        node.push(found);
      }
      node = found;
      return;
    }
    const name = key.slice(2);
    const record = node as Record<string, unknown>;
    if (last) {
      record[name] = value;
      return;
    }
    record[name] ??= listItemName(path[i + 1] ?? '') !== undefined ? [] : {};
    node = record[name] as Record<string, unknown>;
  });
}

/** A JSON pointer segment: `~` and `/` escaped (RFC 6901). */
const pointer = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * releaseCommand takes the fields out of the managedFields entries of managers that wrote them
 * by Update (create, edit, client-side apply): those never apply again, so their ownership stays
 * until it is removed, and an apply of an equal value only shares it. A `test` of each entry's
 * manager makes the patch fail, changing nothing, if the entries moved since doctor read them.
 */
function releaseCommand(object: WrittenObject, owners: readonly ForeignOwner[]): string | undefined {
  const updaters = owners.filter((o) => o.operation !== 'Apply');
  if (updaters.length === 0) return undefined;
  const ops: object[] = [];
  for (const index of [...new Set(updaters.map((o) => o.index))]) {
    const entry = updaters.filter((o) => o.index === index);
    ops.push({ op: 'test', path: `/metadata/managedFields/${index}/manager`, value: entry[0]?.manager });
    for (const o of entry) {
      ops.push({
        op: 'remove',
        path: `/metadata/managedFields/${index}/fieldsV1/${o.path.map(pointer).join('/')}`,
      });
    }
  }
  return `kubectl -n ${object.metadata?.namespace} patch ${object.kind.toLowerCase()} ${object.metadata?.name} --type=json -p '${JSON.stringify(ops)}'`;
}

/**
 * handOverCommands hands the fields perfpilot writes on `object` to it, values unchanged: first
 * they leave the managers that only updated them (their managedFields entries, by JSON patch),
 * then perfpilot applies every one of them at its current value (the apply names all of the
 * object's written fields, not only the contested ones: leaving one out would remove a field
 * perfpilot owns alone). A manager that applies them must then stop applying them.
 */
export function handOverCommands(
  object: WrittenObject,
  fields: readonly WrittenField[],
  owners: readonly ForeignOwner[],
): string {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    const value = valueAt(object, field);
    if (value !== undefined) setAt(body, field.path, value);
  }
  const { metadata: extraMetadata, ...rest } = body as { metadata?: Record<string, unknown> };
  const flow = (value: unknown) => stringify(value, { collectionStyle: 'flow' }).trim();
  const release = releaseCommand(object, owners);
  const lines = [
    ...(release ? [release] : []),
    `kubectl apply --server-side --field-manager=${FIELD_MANAGER} -f - <<'YAML'`,
    `apiVersion: ${object.apiVersion}`,
    `kind: ${object.kind}`,
    `metadata: ${flow({ name: object.metadata?.name, namespace: object.metadata?.namespace, ...extraMetadata })}`,
    ...Object.entries(rest).map(([key, value]) => `${key}: ${flow(value)}`),
    'YAML',
  ];
  const appliers = [...new Set(owners.filter((o) => o.operation === 'Apply').map((o) => o.manager))];
  if (appliers.length > 0) {
    lines.push(
      `then drop these fields from what ${appliers.join(', ')} applies, and apply it again: it lets go of them`,
      '(docs/guides/gitops.md, "Hand the tuned fields to the operator")',
    );
  }
  return lines.join('\n');
}
