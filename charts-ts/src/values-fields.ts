/**
 * The builders every section of the values model uses, so each field carries its description, its
 * default and its bounds the same way, and a name or an image is checked by one pattern.
 */
import Type, { type Static } from 'typebox';

export /** A DNS label (RFC 1123). */
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** An image reference with an explicit tag or digest, never `latest`. */
export const PINNED_IMAGE =
  '^[a-z0-9][a-z0-9._/:-]*[a-z0-9](:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$';

export const strict = { additionalProperties: false, default: {} } as const;

export function int(description: string, def: number, minimum: number, maximum: number) {
  return Type.Integer({ description, default: def, minimum, maximum });
}
export function bool(description: string, def: boolean) {
  return Type.Boolean({ description, default: def });
}
export function name(description: string, def: string, pattern = DNS_LABEL) {
  const allowed =
    pattern === DNS_LABEL
      ? 'a DNS label: lowercase letters, digits and -, at most 63 characters'
      : 'a DNS subdomain: lowercase letters, digits, - and ., at most 63 characters';
  return Type.String({
    description,
    default: def,
    pattern,
    minLength: 1,
    maxLength: 63,
    'x-allowed': allowed,
  });
}
export function image(description: string, def: string) {
  return Type.String({
    description,
    default: def,
    pattern: PINNED_IMAGE,
    maxLength: 512,
    'x-allowed': 'an image reference with a tag or digest, not latest (e.g. registry/name:1.2.3)',
  });
}
export function oneOf<T extends string>(description: string, values: readonly T[], def: T) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], default: def, description });
}

/** Resources of one container: CPU in millicores, memory in MiB; requests never above limits. */
export function resources(def: {
  cpuRequestMillis: number;
  cpuLimitMillis: number;
  memoryRequestMiB: number;
  memoryLimitMiB: number;
}) {
  return Type.Object(
    {
      cpuRequestMillis: int('CPU request in millicores.', def.cpuRequestMillis, 10, 64000),
      cpuLimitMillis: int('CPU limit in millicores.', def.cpuLimitMillis, 10, 64000),
      memoryRequestMiB: int('Memory request in MiB.', def.memoryRequestMiB, 16, 1048576),
      memoryLimitMiB: int('Memory limit in MiB.', def.memoryLimitMiB, 16, 1048576),
    },
    { ...strict, description: 'Container requests and limits.' },
  );
}
export type ContainerResources = Static<ReturnType<typeof resources>>;

/**
 * The project's one image: its entrypoint is the `perfpilot` command (see the Dockerfile), and
 * each Deployment picks a subcommand with its args (`operator`, `risk-api`).
 */
export const PERFPILOT_IMAGE = 'ghcr.io/perfpilot/perfpilot:0.1.0';
