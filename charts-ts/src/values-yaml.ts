/**
 * valuesYaml renders values as a commented YAML file: every field with its description, default
 * and range from the schema. `perfpilot synth --print-values` shows it, so a user can start a
 * values file from the effective values instead of reading the source.
 */
import { Document, isMap, isScalar, type YAMLMap } from 'yaml';
import { allowedBy, type SchemaNode } from './json-schema-check.ts';
import { type Values, ValuesSchema } from './values.ts';

interface DescribedNode extends SchemaNode {
  readonly description?: string;
}

export function valuesYaml(values: Values): string {
  return commentedYaml(
    values,
    ValuesSchema,
    ' PerfPilot toolkit values (perfpilot synth --values FILE). Every field is optional.',
  );
}

/** commentedYaml renders any values with their schema's descriptions and ranges (the Helm chart's values.yaml too). */
export function commentedYaml(values: unknown, schema: unknown, header: string): string {
  const doc = new Document(values);
  annotate(doc.contents as YAMLMap, schema as DescribedNode);
  doc.commentBefore = header;
  return doc.toString({ lineWidth: 0 });
}

function annotate(map: YAMLMap, schema: DescribedNode): void {
  for (const pair of map.items) {
    if (!isScalar(pair.key)) continue;
    const child = (schema.properties?.[String(pair.key.value)] ??
      Object.values(schema.patternProperties ?? {})[0]) as DescribedNode | undefined;
    if (!child) continue;
    const notes = [child.description ?? ''];
    if (child.type !== 'object') notes.push(`Allowed: ${allowedBy(child)}.`);
    pair.key.commentBefore = notes
      .filter(Boolean)
      .map((n) => ` ${n}`)
      .join('\n');
    if (isMap(pair.value) && child.type === 'object' && child.properties) annotate(pair.value, child);
  }
}
