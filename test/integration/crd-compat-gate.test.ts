import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Crd, generatedSpecs, lostFields, type Schema, specSchemaOf } from './crd-compat-gate.ts';

describe('lostFields', () => {
  it.each([
    ['the same', { a: 1, b: { c: 'x' } }, { a: 1, b: { c: 'x' } }, []],
    ['a new field (a new default)', { a: 1 }, { a: 1, d: 2 }, []],
    ['a pruned field', { a: 1, b: { c: 'x' } }, { a: 1, b: {} }, ['spec.b.c: pruned']],
    ['a changed value', { a: 1 }, { a: 2 }, ['spec.a: changed']],
    ['an object turned scalar', { b: { c: 1 } }, { b: 3 }, ['spec.b: changed']],
    ['a changed list', { l: [1, 2] }, { l: [1] }, ['spec.l: changed']],
  ])('%s', (_what, before, after, lost) => {
    expect(lostFields(before, after)).toEqual(lost);
  });
});

describe('generatedSpecs', () => {
  const crd = parse(readFileSync(new URL('../../crds/released/v0.1.0.yaml', import.meta.url), 'utf8')) as Crd;

  /** violations lists where `value` breaks the structural schema (types, bounds, patterns, required). */
  function violations(schema: Schema, value: unknown, path: string): string[] {
    if (schema.enum) return schema.enum.includes(value) ? [] : [`${path}: not in enum`];
    switch (schema.type) {
      case 'object': {
        if (typeof value !== 'object' || value === null) return [`${path}: not an object`];
        const record = value as Record<string, unknown>;
        return [
          ...(schema.required ?? []).filter((k) => !(k in record)).map((k) => `${path}.${k}: missing`),
          ...Object.entries(record).flatMap(([k, v]) => {
            const property = schema.properties?.[k];
            return property ? violations(property, v, `${path}.${k}`) : [`${path}.${k}: unknown`];
          }),
        ];
      }
      case 'integer':
      case 'number': {
        const n = value as number;
        const ok =
          typeof n === 'number' &&
          (schema.type === 'number' || Number.isInteger(n)) &&
          n >= (schema.minimum ?? Number.NEGATIVE_INFINITY) &&
          n <= (schema.maximum ?? Number.POSITIVE_INFINITY);
        return ok ? [] : [`${path}: ${n} out of bounds`];
      }
      case 'string': {
        const s = value as string;
        const ok =
          typeof s === 'string' &&
          s.length >= (schema.minLength ?? 0) &&
          s.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY) &&
          (!schema.pattern || new RegExp(schema.pattern).test(s));
        return ok ? [] : [`${path}: ${JSON.stringify(s)} breaks the string's rules`];
      }
      case 'array':
        return Array.isArray(value)
          ? value.flatMap((v, i) => violations(schema.items ?? {}, v, `${path}[${i}]`))
          : [`${path}: not an array`];
      case 'boolean':
        return typeof value === 'boolean' ? [] : [`${path}: not a boolean`];
      default:
        return [];
    }
  }

  it('samples the same specs for the same seed, each within the released schema', () => {
    const specs = generatedSpecs(crd, 200, 7);
    expect(generatedSpecs(crd, 200, 7)).toEqual(specs);
    expect(specs.flatMap((spec) => violations(specSchemaOf(crd), spec, 'spec'))).toEqual([]);
    // Not all alike: the gate checks varied profiles.
    expect(new Set(specs.map((s) => JSON.stringify(s))).size).toBeGreaterThan(190);
  });
});
