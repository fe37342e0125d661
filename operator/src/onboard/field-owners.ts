/**
 * Who else owns what perfpilot writes: the HPA's owner (a KEDA ScaledObject rewrites the HPA
 * from its own spec) and, in each object's managedFields, any other field manager of a field the
 * actuators apply (server-side apply refuses to change a field another manager owns: 409), with
 * the commands that hand those fields to perfpilot. Pure.
 */
import type { V1ManagedFieldsEntry, V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { CONFIG_ROLLED_AT_ANNOTATION, MAX_OVERFLOW_KEY, POOL_SIZE_KEY } from '../actuators/pool-settings.ts';
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
export const TUNING_CONFIGMAP_FIELDS: readonly WrittenField[] = [POOL_SIZE_KEY, MAX_OVERFLOW_KEY].map(
  (key) => ({ path: ['f:data', `f:${key}`], display: `data.${key}` }),
);
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
export const REDIS_CONFIGMAP_FIELDS: readonly WrittenField[] = [
  { path: ['f:data', `f:${REDIS_MAXMEMORY_CONFIG_KEY}`], display: `data["${REDIS_MAXMEMORY_CONFIG_KEY}"]` },
];

/** A field perfpilot writes that another manager owns too. */
export interface ForeignOwner {
  readonly field: string;
  readonly manager: string;
  /** operation is how the manager wrote it: Apply (server-side apply) or Update (create, edit, client-side apply). */
  readonly operation: string;
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
  for (const entry of managedFields ?? []) {
    if (entry.manager === FIELD_MANAGER || entry.subresource) continue;
    for (const field of fields) {
      if (hasPath(entry.fieldsV1, field.path)) {
        owners.push({
          field: field.display,
          manager: entry.manager ?? '(unnamed)',
          operation: entry.operation ?? '?',
        });
      }
    }
  }
  return owners;
}

/** kedaOwnerOf names the KEDA ScaledObject that owns an HPA, if one does. */
export function kedaOwnerOf(ownerReferences: readonly V1OwnerReference[] | undefined): string | undefined {
  return ownerReferences?.find((ref) => ref.kind === 'ScaledObject' && ref.apiVersion.startsWith('keda.sh/'))
    ?.name;
}

function valueAt(object: WrittenObject, field: WrittenField): unknown {
  let node: unknown = object;
  for (const key of field.path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key.slice(2)];
  }
  return node;
}

function setAt(body: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = body;
  path.slice(0, -1).forEach((key) => {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  });
  node[path[path.length - 1] as string] = value;
}

/**
 * handOverCommands moves every field perfpilot writes on `object` to perfpilot at its current
 * value (so nothing changes but the owner), then says what the other managers must stop doing.
 * The body names all of the object's written fields, not only the contested ones: an apply that
 * left one out would remove a field perfpilot already owns alone.
 */
export function handOverCommands(
  object: WrittenObject,
  fields: readonly WrittenField[],
  owners: readonly ForeignOwner[],
): string {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    const value = valueAt(object, field);
    if (value !== undefined)
      setAt(
        body,
        field.path.map((k) => k.slice(2)),
        value,
      );
  }
  const { metadata: extraMetadata, ...rest } = body as { metadata?: Record<string, unknown> };
  const flow = (value: unknown) => stringify(value, { collectionStyle: 'flow' }).trim();
  const lines = [
    `kubectl apply --server-side --force-conflicts --field-manager=${FIELD_MANAGER} -f - <<'YAML'`,
    `apiVersion: ${object.apiVersion}`,
    `kind: ${object.kind}`,
    `metadata: ${flow({ name: object.metadata?.name, namespace: object.metadata?.namespace, ...extraMetadata })}`,
    ...Object.entries(rest).map(([key, value]) => `${key}: ${flow(value)}`),
    'YAML',
  ];
  const appliers = [...new Set(owners.filter((o) => o.operation === 'Apply').map((o) => o.manager))];
  if (appliers.length > 0) {
    lines.push(
      `then drop these fields from what ${appliers.join(', ')} applies, or its next apply takes them back`,
      '(docs/guides/gitops.md, "Hand the tuned fields to the operator")',
    );
  }
  return lines.join('\n');
}
