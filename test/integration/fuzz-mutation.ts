/**
 * "Broken in one field": a valid PerformanceProfile spec with exactly one field made invalid by
 * its schema (a bound crossed, a type changed, an enum value unknown, a string too long, a
 * required field removed), and the path the API server must name when it refuses it.
 */
import type { Schema } from './crd-compat-gate.ts';

/** A spec broken in one field, the field's path as the API server writes it, and how. */
export interface BrokenSpec {
  /** spec is the broken spec (a string when the whole spec was the field broken). */
  readonly spec: Record<string, unknown>;
  readonly field: string;
  readonly how: string;
}

/** One way to break one field: where, how, and the edit that does it. */
interface Breakage {
  readonly field: string;
  readonly how: string;
  apply(): void;
}

/** breakages lists every way to break one field of `value` (valid for `schema`) at `path`. */
function breakages(
  value: unknown,
  schema: Schema,
  path: string,
  parent: Record<string, unknown> | unknown[],
  key: string | number,
): Breakage[] {
  const set = (v: unknown, field: string, how: string): Breakage => ({
    field,
    how,
    apply: () => {
      (parent as Record<string | number, unknown>)[key] = v;
    },
  });
  const found: Breakage[] = [];
  if (schema.enum) {
    found.push(set('NotOneOfTheValues', path, 'an unknown enum value'));
    return found;
  }
  switch (schema.type) {
    case 'object': {
      const object = value as Record<string, unknown>;
      for (const [k, property] of Object.entries(schema.properties ?? {})) {
        if (!(k in object)) continue;
        found.push(...breakages(object[k], property, `${path}.${k}`, object, k));
        if (schema.required?.includes(k)) {
          found.push({
            field: `${path}.${k}`,
            how: 'a required field removed',
            apply: () => {
              delete object[k];
            },
          });
        }
      }
      found.push(set('an object, not this', path, 'a string where an object belongs'));
      break;
    }
    case 'array': {
      const array = value as unknown[];
      array.forEach((item, i) => {
        found.push(...breakages(item, schema.items ?? {}, `${path}[${i}]`, array, i));
      });
      if (schema.maxItems !== undefined) {
        const first = array[0];
        if (first !== undefined) {
          found.push(set(Array(schema.maxItems + 1).fill(first), path, `more than ${schema.maxItems} items`));
        }
      }
      break;
    }
    case 'integer':
    case 'number':
      if (schema.maximum !== undefined)
        found.push(set(schema.maximum + 1, path, `above its maximum ${schema.maximum}`));
      if (schema.minimum !== undefined)
        found.push(set(schema.minimum - 1, path, `below its minimum ${schema.minimum}`));
      found.push(set('12', path, 'a string where a number belongs'));
      break;
    case 'string':
      if (schema.maxLength !== undefined) {
        found.push(set('x'.repeat(schema.maxLength + 1), path, `longer than ${schema.maxLength}`));
      }
      found.push(set(12, path, 'a number where a string belongs'));
      break;
    case 'boolean':
      found.push(set('yes', path, 'a string where a boolean belongs'));
      break;
  }
  return found;
}

/** breakOneField copies `spec` and breaks one of its fields, chosen by `pick` in [0, 1). */
export function breakOneField(spec: Record<string, unknown>, schema: Schema, pick: number): BrokenSpec {
  const copy = structuredClone(spec);
  const holder = { spec: copy };
  const options = breakages(copy, schema, 'spec', holder, 'spec');
  const chosen = options[Math.floor(pick * options.length)];
  if (!chosen) throw new Error('breakOneField: the spec has no field to break');
  chosen.apply();
  return { spec: holder.spec as Record<string, unknown>, field: chosen.field, how: chosen.how };
}
