/**
 * Reads and server-side applies with field manager `perfpilot`, the one way the operator writes a knob to a
 * Kubernetes object. A body holds only the fields the operator owns; when another manager owns one
 * of them with a different value, the API server answers 409 and the apply is reported as a
 * conflict naming that manager and field, never forced (unless a caller asks, see `force`).
 */
import { ApiException, type KubernetesObject, PatchStrategy } from '@kubernetes/client-node';
import { FIELD_MANAGER, LAST_CHANGE_ANNOTATION } from '../api/v1alpha1/index.ts';
import type { TargetClients } from './context.ts';

/** One field another manager owns, from a 409 answer to an apply. */
export interface FieldConflict {
  /** manager is the other field manager, e.g. `kubectl-client-side-apply` or `argocd-controller`. */
  readonly manager: string;
  /** field is the field path, e.g. `.spec.maxReplicas` or `.data.DB_POOL_SIZE`. */
  readonly field: string;
}

/** What one server-side apply did. */
export type ApplyResult =
  | { readonly kind: 'applied'; readonly object: KubernetesObject }
  | {
      readonly kind: 'conflict';
      /** object names what was not written, e.g. `HorizontalPodAutoscaler shop/risk-api`. */
      readonly object: string;
      readonly conflicts: readonly FieldConflict[];
      /** message is the API server's, e.g. `Apply failed with 1 conflict: conflict with "kubectl" …`. */
      readonly message: string;
    };

/** Options of applyFields. */
export interface ApplyOptions {
  /**
   * live is the object as just read. When `perfpilot` already owns fields of it that `object`
   * does not hold, the apply would remove them (server-side apply drops a manager's fields it no
   * longer applies): that is returned as a conflict and nothing is written. It happens when
   * `kubectl apply --server-side --field-manager=perfpilot` ran on an object created by
   * client-side `kubectl apply`: kubectl then hands every field to perfpilot.
   */
  readonly live?: KubernetesObject;
  /**
   * force takes the fields from other managers. Only the finalizer's restore of the original
   * knobs uses it: the profile's owner asked for the operator's changes to be undone.
   * @default false
   */
  readonly force?: boolean;
  /**
   * record is the change being applied, for LAST_CHANGE_ANNOTATION (see reconcile's act step),
   * written in the same apply as the knob. @default the record the object holds, kept as it is
   */
  readonly record?: string;
}

/**
 * recordAnnotation is the LAST_CHANGE_ANNOTATION an apply carries: the new record, else the one
 * `live` holds (an apply that left it out would remove a field perfpilot owns), else none.
 */
export function recordAnnotation(
  live: KubernetesObject | undefined,
  record: string | undefined,
): Record<string, string> {
  const kept = live?.metadata?.annotations?.[LAST_CHANGE_ANNOTATION];
  const value = record ?? kept;
  return value === undefined ? {} : { [LAST_CHANGE_ANNOTATION]: value };
}

/**
 * recordMetadata is the `metadata.annotations` of an apply body with recordAnnotation, or nothing:
 * an empty map in a body would make perfpilot own `.metadata.annotations` itself.
 */
export function recordMetadata(
  live: KubernetesObject | undefined,
  record: string | undefined,
): { annotations?: Record<string, string> } {
  const annotations = recordAnnotation(live, record);
  return Object.keys(annotations).length > 0 ? { annotations } : {};
}

/** readIfExists runs a read and turns 404 Not Found into undefined; other failures are thrown. */
export async function readIfExists<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

/** The conflict half of ApplyResult. */
export type ApplyConflict = Extract<ApplyResult, { kind: 'conflict' }>;

/** objectName renders `Kind namespace/name` for results, logs and Events. */
export function objectName(object: KubernetesObject): string {
  return `${object.kind} ${object.metadata?.namespace ?? 'default'}/${object.metadata?.name ?? ''}`;
}

/**
 * applyFields server-side applies `object` (only the fields the operator owns) as `perfpilot`.
 * A field conflict is returned, not thrown; every other failure is thrown as the ApiException.
 */
export async function applyFields(
  clients: Pick<TargetClients, 'objects'>,
  object: KubernetesObject,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const stray = options.live ? strayOwnedFields(options.live, object, FIELD_MANAGER) : [];
  if (stray.length > 0) {
    return {
      kind: 'conflict',
      object: objectName(object),
      conflicts: stray.map((field) => ({ manager: FIELD_MANAGER, field })),
      message: `${FIELD_MANAGER} owns fields it does not tune (${stray.join(', ')}); applying would remove them, so nothing was written. Give them back to their manager, e.g. with kubectl apply --server-side of the manifests`,
    };
  }
  try {
    const applied = await clients.objects.patch(
      object,
      undefined,
      undefined,
      FIELD_MANAGER,
      options.force ?? false,
      PatchStrategy.ServerSideApply,
    );
    return { kind: 'applied', object: applied };
  } catch (err) {
    const conflict =
      err instanceof ApiException && err.code === 409 ? parseFieldConflicts(err.body) : undefined;
    if (!conflict) throw err;
    return { kind: 'conflict', object: objectName(object), ...conflict };
  }
}

/**
 * parseFieldConflicts reads a 409 Status body (a JSON string or an object); undefined unless it
 * is an apply conflict, i.e. it lists causes of reason `FieldManagerConflict`.
 */
export function parseFieldConflicts(
  body: unknown,
): { conflicts: FieldConflict[]; message: string } | undefined {
  let status: unknown = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (status === null || typeof status !== 'object') return undefined;
  const { message, details } = status as { message?: unknown; details?: { causes?: unknown } };
  const causes = Array.isArray(details?.causes) ? (details.causes as unknown[]) : [];
  const conflicts: FieldConflict[] = [];
  for (const cause of causes) {
    const c = cause as { reason?: unknown; message?: unknown; field?: unknown };
    if (c.reason !== 'FieldManagerConflict') continue;
    // The cause's message is `conflict with "<manager>"` and, for another API version, ` using <version>`.
    const manager =
      typeof c.message === 'string' ? /conflict with "([^"]*)"/.exec(c.message)?.[1] : undefined;
    conflicts.push({ manager: manager ?? 'unknown', field: typeof c.field === 'string' ? c.field : '' });
  }
  if (conflicts.length === 0) return undefined;
  return { conflicts, message: typeof message === 'string' ? message : 'apply conflict' };
}

/** conflictSummary renders conflicts on one line for a condition or an Event note. */
export function conflictSummary(conflicts: readonly FieldConflict[]): string {
  return conflicts.map((c) => `${c.field} owned by "${c.manager}"`).join(', ');
}

/** Path segments of every leaf of a managedFields FieldsV1 tree (`{"f:spec": {"f:minReplicas": {}}}`). */
function ownedLeaves(fields: unknown, prefix: readonly string[] = []): string[][] {
  if (fields === null || typeof fields !== 'object') return [];
  const entries = Object.entries(fields as Record<string, unknown>).filter(([key]) => key !== '.');
  if (entries.length === 0) return prefix.length > 0 ? [[...prefix]] : [];
  return entries.flatMap(([key, value]) => ownedLeaves(value, [...prefix, key.replace(/^f:/, '')]));
}

/**
 * Path segments of every leaf of an apply body, leaving out what identifies the object. A list of
 * named objects (containers, env) is keyed by name, as managedFields keys it (`k:{"name":"api"}`).
 */
function bodyLeaves(value: unknown, prefix: readonly string[] = []): string[][] {
  if (Array.isArray(value) && value.length > 0 && value.every(isNamedObject)) {
    return value.flatMap((item) => bodyLeaves(item, [...prefix, `k:${JSON.stringify({ name: item.name })}`]));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [[...prefix]];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
    const path = [...prefix, key];
    const id = path.join('\0');
    if (id === 'apiVersion' || id === 'kind' || id === 'metadata\0name' || id === 'metadata\0namespace') {
      return [];
    }
    return bodyLeaves(v, path);
  });
}

/**
 * strayOwnedFields lists the fields `manager` owns by Apply on `live` that `body` does not hold,
 * as `.spec.metrics`-style paths: the fields an apply of `body` would remove.
 */
export function strayOwnedFields(live: KubernetesObject, body: KubernetesObject, manager: string): string[] {
  const entry = live.metadata?.managedFields?.find((m) => m.manager === manager && m.operation === 'Apply');
  if (!entry) return [];
  const applied = new Set(bodyLeaves(body).map((p) => p.join('\0')));
  return ownedLeaves(entry.fieldsV1)
    .filter((p) => !applied.has(p.join('\0')))
    .map((p) => `.${p.join('.')}`);
}

function isNamedObject(item: unknown): item is { name: string } {
  return item !== null && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string';
}
