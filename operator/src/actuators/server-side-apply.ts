/**
 * Reads and server-side applies with field manager `perfpilot`, the one way the operator writes a knob to a
 * Kubernetes object. A body holds only the fields the operator owns; when another manager owns one
 * of them with a different value, the API server answers 409 and the apply is reported as a
 * conflict naming that manager and field, never forced (unless a caller asks, see `force`).
 */
import { ApiException, type KubernetesObject, PatchStrategy } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../api/v1alpha1/index.ts';
import type { TargetClients } from './targets.ts';

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
   * force takes the fields from other managers. Only the finalizer's restore of the original
   * knobs uses it: the profile's owner asked for the operator's changes to be undone.
   * @default false
   */
  readonly force?: boolean;
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
