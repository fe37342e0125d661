/**
 * A small checker for the JSON Schema subset the values model uses (types, enums, bounds,
 * patterns, lengths, required and unknown fields, maps), with messages that name the field, the
 * value and what is allowed. It replaces `typebox/value` on the synth path: that module costs
 * about a tenth of synth's one-second budget just to load, and its messages need rewording anyway.
 */

/** The schema keywords this checker understands (what TypeBox emits for the values model). */
export interface SchemaNode {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly patternProperties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: boolean;
  readonly items?: SchemaNode;
  readonly required?: readonly string[];
  /** x-allowed, when present, says in words what a pattern allows. */
  readonly 'x-allowed'?: string;
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** withDefaults fills every absent field that has a default, depth first; the input is not changed. */
export function withDefaults(schema: SchemaNode, value: unknown): unknown {
  const filled =
    value === undefined && schema.default !== undefined ? structuredClone(schema.default) : value;
  if (schema.type === 'object' && isMapping(filled)) {
    const out: Record<string, unknown> = { ...filled };
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      const v = withDefaults(child, out[name]);
      if (v !== undefined) out[name] = v;
    }
    const entrySchema = Object.values(schema.patternProperties ?? {})[0];
    if (entrySchema) {
      for (const [key, v] of Object.entries(out)) out[key] = withDefaults(entrySchema, v);
    }
    return out;
  }
  if (schema.type === 'array' && Array.isArray(filled) && schema.items) {
    const items = schema.items;
    return filled.map((v) => withDefaults(items, v));
  }
  return filled;
}

/** schemaProblems lists every violation, one per field, in schema order. */
export function schemaProblems(schema: SchemaNode, value: unknown, path: readonly string[] = []): string[] {
  const field = fieldName(path);
  const invalid = () => [`${field}: ${describe(value)} is invalid; allowed: ${allowedBy(schema)}`];
  switch (schema.type) {
    case 'integer':
      if (!Number.isInteger(value)) return invalid();
      break;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return invalid();
      break;
    case 'string':
      if (typeof value !== 'string') return invalid();
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return invalid();
      break;
    case 'array':
      if (!Array.isArray(value)) return invalid();
      break;
    case 'object':
      if (!isMapping(value)) return invalid();
      return objectProblems(schema, value, path);
  }
  if (schema.enum && !schema.enum.includes(value)) return invalid();
  if (typeof value === 'number') {
    if (
      (schema.minimum !== undefined && value < schema.minimum) ||
      (schema.maximum !== undefined && value > schema.maximum)
    ) {
      return invalid();
    }
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return invalid();
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return invalid();
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return invalid();
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return invalid();
    const items = schema.items;
    if (items) return value.flatMap((v, i) => schemaProblems(items, v, [...path, String(i)]));
  }
  return [];
}

function objectProblems(
  schema: SchemaNode,
  value: Record<string, unknown>,
  path: readonly string[],
): string[] {
  const problems: string[] = [];
  const properties = schema.properties ?? {};
  const [keyPattern, entrySchema] = Object.entries(schema.patternProperties ?? {})[0] ?? [];
  for (const [name, child] of Object.entries(properties)) {
    if (value[name] === undefined) {
      if (schema.required?.includes(name)) {
        problems.push(`${fieldName([...path, name])}: missing; allowed: ${allowedBy(child)}`);
      }
      continue;
    }
    problems.push(...schemaProblems(child, value[name], [...path, name]));
  }
  for (const [key, v] of Object.entries(value)) {
    if (key in properties) continue;
    if (entrySchema && keyPattern) {
      if (new RegExp(keyPattern).test(key)) problems.push(...schemaProblems(entrySchema, v, [...path, key]));
      else
        problems.push(`${fieldName([...path, key])}: key is invalid; allowed: keys matching ${keyPattern}`);
    } else if (schema.additionalProperties === false) {
      problems.push(
        `${fieldName([...path, key])}: unknown field (value ${describe(v)}); allowed fields: ${Object.keys(properties).join(', ')}`,
      );
    }
  }
  return problems;
}

/** allowedBy says in words what a schema allows. */
export function allowedBy(schema: SchemaNode): string {
  if (schema['x-allowed']) return schema['x-allowed'];
  if (schema.enum) return `one of ${schema.enum.join(', ')}`;
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const kind = schema.type === 'integer' ? 'an integer' : 'a number';
      return `${kind} from ${schema.minimum ?? '-∞'} to ${schema.maximum ?? '∞'}`;
    }
    case 'boolean':
      return 'true or false';
    case 'string': {
      const parts = ['a string'];
      if (schema.pattern) parts.push(`matching ${schema.pattern}`);
      if (schema.maxLength !== undefined) parts.push(`of at most ${schema.maxLength} characters`);
      return parts.join(' ');
    }
    case 'array':
      return `a list${schema.minItems ? ` of at least ${schema.minItems} item(s)` : ''}${schema.items ? ` of ${allowedBy(schema.items)}` : ''}`;
    case 'object':
      return schema.properties
        ? `a mapping with fields ${Object.keys(schema.properties).join(', ')}`
        : 'a mapping';
    default:
      return 'see the values reference';
  }
}

function fieldName(path: readonly string[]): string {
  if (path.length === 0) return '(values)';
  return path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** describe shows a value briefly, as JSON. */
export function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
