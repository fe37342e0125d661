/**
 * Schema pieces the PerformanceProfile's parts share, so a name pattern or an enum is spelled the
 * same way in every field that uses it.
 */
import Type from 'typebox';

/** Kubernetes-style string enum: `{type: string, enum: [...]}` (structural schemas have no `const`). */
export function StringEnum<T extends string>(values: readonly T[], options: Record<string, unknown>) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

/** A DNS subdomain name (RFC 1123), the pattern of every object name a profile refers to. */
export const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** A bounded integer field with its default. */
export const intBound = (description: string, def: number, minimum: number, maximum: number) =>
  Type.Integer({ minimum, maximum, default: def, description });
