/**
 * Builds the PerformanceProfile CustomResourceDefinition from the TypeBox schemas composed in
 * performance-profile.ts: a structural OpenAPI v3 schema with descriptions, defaults, bounds and
 * CEL rules, the status subresource, printer columns, short names and a category.
 */
import {
  CATEGORY,
  ConditionType,
  CRD_NAME,
  GROUP,
  KIND,
  LIST_KIND,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from './constants.ts';
import { PerformanceProfileSpec } from './performance-profile.ts';
import { PerformanceProfileStatus } from './profile-status.ts';

/** A Kubernetes JSONSchemaProps subset: the keywords a structural schema may carry. */
export interface JsonSchemaProps {
  type?: string;
  format?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchemaProps;
  properties?: Record<string, JsonSchemaProps>;
  required?: string[];
  [extension: `x-kubernetes-${string}`]: unknown;
}

const COPIED = new Set([
  'type',
  'format',
  'description',
  'default',
  'enum',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
]);

/**
 * toStructuralSchema turns a TypeBox (JSON Schema) object into a Kubernetes structural schema.
 * It copies only the keywords Kubernetes understands and throws on any other, so nothing is lost
 * silently. Properties with a default leave `required`: the API server fills them in.
 */
export function toStructuralSchema(schema: unknown, path = '$'): JsonSchemaProps {
  if (typeof schema !== 'object' || schema === null) {
    throw new Error(`${path}: schema must be an object, got ${JSON.stringify(schema)}`);
  }
  const source = schema as Record<string, unknown>;
  const out: JsonSchemaProps = {};
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith('~')) continue; // TypeBox's own markers
    if (COPIED.has(key)) {
      (out as Record<string, unknown>)[key] = value;
    } else if (key.startsWith('x-kubernetes-')) {
      out[key as `x-kubernetes-${string}`] = value;
    } else if (key === 'properties') {
      out.properties = {};
      for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
        out.properties[name] = toStructuralSchema(child, `${path}.${name}`);
      }
    } else if (key === 'items') {
      out.items = toStructuralSchema(value, `${path}[]`);
    } else if (key === 'required') {
      // handled below, once properties are known
    } else {
      throw new Error(`${path}: keyword ${key} has no place in a Kubernetes structural schema`);
    }
  }
  // The API server validates a default against the schema's CEL rules without applying nested
  // defaults first, so an object default of {} is spelled out with its children's defaults.
  if (isPlainObject(out.default) && out.properties) {
    const filled: Record<string, unknown> = { ...out.default };
    for (const [name, child] of Object.entries(out.properties)) {
      if (filled[name] === undefined && child.default !== undefined) filled[name] = child.default;
    }
    out.default = filled;
  }
  if (out.description && out.type !== 'object' && out.type !== 'array') {
    const note = boundsNote(out);
    if (note)
      out.description = out.description.endsWith('.')
        ? `${out.description.slice(0, -1)}${note}.`
        : `${out.description}${note}`;
  }
  const properties = (source.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = ((source.required ?? []) as string[]).filter(
    (name) => properties[name]?.default === undefined,
  );
  if (required.length > 0) out.required = required;
  if (out.type === undefined) throw new Error(`${path}: every schema needs a type`);
  return inKeyOrder(out);
}

/** boundsNote appends default and range to a scalar's description, for `kubectl explain`. */
function boundsNote(schema: JsonSchemaProps): string {
  const notes: string[] = [];
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  if (schema.minimum !== undefined && schema.maximum !== undefined) {
    notes.push(`from ${schema.minimum} to ${schema.maximum}`);
  } else if (schema.minimum !== undefined) {
    notes.push(`at least ${schema.minimum}`);
  }
  return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const KEY_ORDER = ['type', 'description', 'required', 'properties', 'items'];

/** inKeyOrder puts type, description and structure first, so the YAML reads like kubectl explain. */
function inKeyOrder(schema: JsonSchemaProps): JsonSchemaProps {
  const rank = (key: string) => (KEY_ORDER.includes(key) ? KEY_ORDER.indexOf(key) : KEY_ORDER.length);
  const keys = Object.keys(schema).sort((a, b) => rank(a) - rank(b));
  return Object.fromEntries(
    keys.map((key) => [key, (schema as Record<string, unknown>)[key]]),
  ) as JsonSchemaProps;
}

/** The openAPIV3Schema of a PerformanceProfile. */
export function performanceProfileSchema(): JsonSchemaProps {
  return {
    type: 'object',
    description:
      'PerformanceProfile keeps a Redis-cached API tuned: it bounds the DB pool, Redis maxmemory and HPA replica bounds, states the SLOs, and says whether the operator observes, recommends or applies changes.',
    required: ['spec'],
    properties: {
      apiVersion: {
        type: 'string',
        description: 'apiVersion defines the versioned schema of this representation of an object.',
      },
      kind: { type: 'string', description: 'kind is the REST resource this object represents.' },
      metadata: { type: 'object' },
      spec: toStructuralSchema(PerformanceProfileSpec, 'spec'),
      status: toStructuralSchema(PerformanceProfileStatus, 'status'),
    },
  };
}

/** The CRD object, ready to serialize. */
export function performanceProfileCrd(labels: Record<string, string> = {}) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: LIST_KIND,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            {
              name: 'Mode',
              type: 'string',
              jsonPath: '.spec.mode',
              description: 'Observe, Recommend or Auto.',
            },
            {
              name: 'Ready',
              type: 'string',
              jsonPath: `.status.conditions[?(@.type=="${ConditionType.Ready}")].status`,
              description: 'Whether the last reconcile completed.',
            },
            {
              name: 'SLO',
              type: 'string',
              jsonPath: '.status.sloState',
              description: 'Whether every SLO holds: Met, Violated or Unknown.',
            },
            {
              name: 'Knobs',
              type: 'string',
              jsonPath: '.status.knobsSummary',
              description: 'Current pool, overflow, maxmemory and replica bounds.',
            },
            {
              name: 'Last Decision',
              type: 'string',
              jsonPath: '.status.lastDecision',
              priority: 1,
              description: 'The newest decision and its outcome.',
            },
            { name: 'Target', type: 'string', jsonPath: '.spec.targetRef.name', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: { openAPIV3Schema: performanceProfileSchema() },
        },
      ],
    },
  };
}
