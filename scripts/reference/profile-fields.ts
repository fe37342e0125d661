/**
 * The PerformanceProfile reference: every field of the CRD's OpenAPI schema as a table row, its
 * CEL rules with their messages, and its printer columns. It reads the CRD object the synth
 * writes to crds/, so the page and `kubectl explain` say the same.
 */
import type { JsonSchemaProps } from '../../operator/src/api/v1alpha1/index.ts';
import { cell, code, generatedNote, table } from './markdown.ts';

/** FieldRow is one schema property, flattened: `spec.knobs.poolSize.min`, `status.history[].knob`. */
export interface FieldRow {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: unknown;
  /** constraints are the schema's bounds in kubectl's words: `1 to 500`, `one of: Observe, Auto`. */
  readonly constraints: readonly string[];
  readonly description: string;
}

/** CelRow is one `x-kubernetes-validations` rule and the schema path that carries it. */
export interface CelRow {
  readonly path: string;
  readonly rule: string;
  readonly message: string;
  readonly fieldPath?: string;
}

/** typeOf names a schema's type as a reader expects it: `integer (int64)`, `array of string`. */
export function typeOf(schema: JsonSchemaProps): string {
  const base = schema.format ? `${schema.type} (${schema.format})` : (schema.type ?? '');
  if (schema.type === 'array' && schema.items) return `array of ${typeOf(schema.items)}`;
  return base;
}

/** constraintsOf lists a schema's bounds, enum, pattern and list semantics. */
export function constraintsOf(schema: JsonSchemaProps): string[] {
  const out: string[] = [];
  const range = (lo: number | undefined, hi: number | undefined, unit: string) => {
    if (lo !== undefined && hi !== undefined) out.push(`${lo} to ${hi}${unit}`);
    else if (lo !== undefined) out.push(`at least ${lo}${unit}`);
    else if (hi !== undefined) out.push(`at most ${hi}${unit}`);
  };
  range(schema.minimum, schema.maximum, '');
  range(schema.minLength, schema.maxLength, ' characters');
  range(schema.minItems, schema.maxItems, ' items');
  if (schema.enum) out.push(`one of: ${schema.enum.map((v) => code(String(v))).join(', ')}`);
  if (schema.pattern) out.push(`pattern ${code(schema.pattern)}`);
  const listType = schema['x-kubernetes-list-type'];
  if (typeof listType === 'string') {
    const keys = schema['x-kubernetes-list-map-keys'];
    out.push(
      Array.isArray(keys)
        ? `list type ${code(listType)}, keyed by ${keys.map((k) => code(String(k))).join(', ')}`
        : `list type ${code(listType)}`,
    );
  }
  return out;
}

/**
 * fieldRows walks `schema` depth first, in the schema's own property order, and returns a row
 * for every property below `prefix`; array items continue the path with `[]`.
 */
export function fieldRows(schema: JsonSchemaProps, prefix: string): FieldRow[] {
  const rows: FieldRow[] = [];
  const children = (parent: JsonSchemaProps, path: string) => {
    const required = new Set(parent.required ?? []);
    for (const [name, child] of Object.entries(parent.properties ?? {})) {
      const childPath = `${path}.${name}`;
      rows.push({
        path: childPath,
        type: typeOf(child),
        required: required.has(name),
        ...(child.default !== undefined ? { default: child.default } : {}),
        constraints: constraintsOf(child),
        description: child.description ?? '',
      });
      descend(child, childPath);
    }
  };
  const descend = (node: JsonSchemaProps, path: string) => {
    if (node.properties) children(node, path);
    if (node.items?.properties) children(node.items, `${path}[]`);
  };
  descend(schema, prefix);
  return rows;
}

/** celRows collects every CEL rule under `schema`, each with the path of the schema carrying it. */
export function celRows(schema: JsonSchemaProps, path: string): CelRow[] {
  const rows: CelRow[] = [];
  const rules = schema['x-kubernetes-validations'];
  if (Array.isArray(rules)) {
    for (const r of rules as {
      rule: string;
      message?: string;
      messageExpression?: string;
      fieldPath?: string;
    }[]) {
      rows.push({
        path,
        rule: r.rule,
        message: r.message ?? (r.messageExpression ? `(expression) ${r.messageExpression}` : ''),
        ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}),
      });
    }
  }
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    rows.push(...celRows(child, path ? `${path}.${name}` : name));
  }
  if (schema.items) rows.push(...celRows(schema.items, `${path}[]`));
  return rows;
}

/**
 * defaultText shows a default as JSON. An object default that only repeats its fields' own
 * defaults (the API server fills them in) says so, instead of repeating a page of JSON.
 */
export function defaultText(row: FieldRow, schema: JsonSchemaProps | undefined): string {
  if (row.default === undefined) return '';
  const value = row.default;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && schema?.properties) {
    const fromFields = Object.fromEntries(
      Object.entries(schema.properties)
        .filter(([, child]) => child.default !== undefined)
        .map(([name, child]) => [name, child.default]),
    );
    if (JSON.stringify(fromFields) === JSON.stringify(value)) return "its fields' defaults";
  }
  return code(JSON.stringify(value));
}

/** schemaAt finds the schema of a row's path (`spec.a[].b`) under `root`, whose path is `prefix`. */
function schemaAt(root: JsonSchemaProps, prefix: string, path: string): JsonSchemaProps | undefined {
  let node: JsonSchemaProps | undefined = root;
  for (const part of path.slice(prefix.length + 1).split('.')) {
    const name = part.endsWith('[]') ? part.slice(0, -2) : part;
    node = node?.properties?.[name];
    if (part.endsWith('[]')) node = node?.items;
  }
  return node;
}

/** fieldTable renders the rows of one top-level part (`spec` or `status`). */
export function fieldTable(schema: JsonSchemaProps, prefix: string): string {
  const rows = fieldRows(schema, prefix).map((row) => [
    code(row.path),
    cell(row.type),
    defaultText(row, schemaAt(schema, prefix, row.path)),
    [...(row.required ? ['required'] : []), ...row.constraints].join('<br>'),
    cell(row.description),
  ]);
  return table(['Field', 'Type', 'Default', 'Validation', 'Description'], rows);
}

/** The parts of the CRD object the page reads. */
export interface CrdLike {
  readonly spec: {
    readonly group: string;
    readonly scope: string;
    readonly names: {
      readonly kind: string;
      readonly plural: string;
      readonly shortNames: readonly string[];
      readonly categories: readonly string[];
    };
    readonly versions: readonly {
      readonly name: string;
      readonly additionalPrinterColumns: readonly {
        readonly name: string;
        readonly type: string;
        readonly jsonPath: string;
        readonly description?: string;
        readonly priority?: number;
      }[];
      readonly schema: { readonly openAPIV3Schema: JsonSchemaProps };
    }[];
  };
}

/** profileReference renders docs/reference/performance-profile.md from the CRD object. */
export function profileReference(crd: CrdLike): string {
  const { group, names, scope } = crd.spec;
  const sections: string[] = [
    generatedNote('the CRD (`performanceProfileCrd()` in operator/src/api/v1alpha1/)'),
  ];
  sections.push(`# ${names.kind} reference`);
  for (const version of crd.spec.versions) {
    const root = version.schema.openAPIV3Schema;
    const spec = root.properties?.spec;
    const status = root.properties?.status;
    if (!spec || !status) throw new Error(`version ${version.name}: the schema has no spec or status`);
    sections.push(
      table(
        ['API', 'Kind', 'Scope', 'Short names', 'Category'],
        [
          [
            code(`${group}/${version.name}`),
            code(names.kind),
            scope,
            names.shortNames.map((n) => code(n)).join(', '),
            names.categories.map((n) => code(n)).join(', '),
          ],
        ],
      ),
      cell(root.description ?? ''),
      `Every field below is also shown by \`kubectl explain ${names.plural}.spec\` (add \`--recursive\` for the tree). ` +
        'A field with a default may be left out: the API server fills it in.',
      '## spec',
      cell(spec.description ?? ''),
      fieldTable(spec, 'spec'),
      '## status',
      cell(status.description ?? ''),
      fieldTable(status, 'status'),
      '## Validation rules',
      'The API server checks these CEL rules on every create and update, and refuses the object with the message shown. ' +
        'The rule reads the object at its path as `self`; the error names the field in the last column.',
      table(
        ['Path', 'Rule', 'Message', 'Field named'],
        celRows(root, '').map((r) => [
          code(r.path),
          code(r.rule),
          cell(r.message),
          code(`${r.path}${r.fieldPath ?? ''}`),
        ]),
      ),
      '## Printer columns',
      `What \`kubectl get ${names.shortNames[0] ?? names.plural}\` shows; columns of priority 1 appear with \`-o wide\`.`,
      table(
        ['Column', 'Type', 'JSONPath', 'Priority', 'Description'],
        version.additionalPrinterColumns.map((c) => [
          cell(c.name),
          c.type,
          code(c.jsonPath),
          String(c.priority ?? 0),
          cell(c.description ?? ''),
        ]),
      ),
    );
  }
  return `${sections.join('\n\n')}\n`;
}
