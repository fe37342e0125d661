import fc from 'fast-check';
import Value from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { type SchemaNode, schemaProblems, withDefaults } from './json-schema-check.ts';
import { ValuesSchema } from './values.ts';

const schema: SchemaNode = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[a-z]+$', maxLength: 8 },
    size: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
    ratio: { type: 'number', minimum: 0, maximum: 1 },
    on: { type: 'boolean' },
    mode: { type: 'string', enum: ['a', 'b'] },
    tags: { type: 'array', minItems: 1, items: { type: 'string' } },
    limits: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: { max: { type: 'integer', minimum: 0, maximum: 5, default: 5 } },
    },
    byType: {
      type: 'object',
      patternProperties: {
        '^[a-z_]+$': { type: 'object', properties: { ttl: { type: 'integer', minimum: 1, maximum: 9 } } },
      },
    },
  },
};

describe('json-schema-check', () => {
  it('fills defaults depth first without touching given values', () => {
    expect(withDefaults(schema, { name: 'x', size: 7 })).toEqual({ name: 'x', size: 7, limits: { max: 5 } });
  });

  it('names a missing required field', () => {
    expect(schemaProblems(schema, {})).toEqual([
      'name: missing; allowed: a string matching ^[a-z]+$ of at most 8 characters',
    ]);
  });

  it('names a value of the wrong type', () => {
    expect(schemaProblems(schema, { name: 'x', on: 'yes' })).toEqual([
      'on: "yes" is invalid; allowed: true or false',
    ]);
  });

  it('names a number out of range', () => {
    expect(schemaProblems(schema, { name: 'x', ratio: 1.5 })).toEqual([
      'ratio: 1.5 is invalid; allowed: a number from 0 to 1',
    ]);
  });

  it('names a string not matching its pattern', () => {
    expect(schemaProblems(schema, { name: 'X1' })).toEqual([
      'name: "X1" is invalid; allowed: a string matching ^[a-z]+$ of at most 8 characters',
    ]);
  });

  it('names a value outside its enumeration', () => {
    expect(schemaProblems(schema, { name: 'x', mode: 'c' })).toEqual([
      'mode: "c" is invalid; allowed: one of a, b',
    ]);
  });

  it('names a list that is too short, and a bad item by index', () => {
    expect(schemaProblems(schema, { name: 'x', tags: [] })).toEqual([
      'tags: [] is invalid; allowed: a list of at least 1 item(s) of a string',
    ]);
    expect(schemaProblems(schema, { name: 'x', tags: ['a', 2] })).toEqual([
      'tags[1]: 2 is invalid; allowed: a string',
    ]);
  });

  it('names an unknown field and lists the allowed ones', () => {
    expect(schemaProblems(schema, { name: 'x', limits: { maxx: 1 } })).toEqual([
      'limits.maxx: unknown field (value 1); allowed fields: max',
    ]);
  });

  it('names a map key that does not match its pattern, and checks map entries', () => {
    expect(schemaProblems(schema, { name: 'x', byType: { 'Bad-Key': {}, ok: { ttl: 0 } } })).toEqual([
      'byType.Bad-Key: key is invalid; allowed: keys matching ^[a-z_]+$',
      'byType.ok.ttl: 0 is invalid; allowed: an integer from 1 to 9',
    ]);
  });

  it('agrees with TypeBox on the values model: defaults, and valid or not for any one changed field', () => {
    const values = ValuesSchema as unknown as SchemaNode;
    const defaults = withDefaults(values, {}) as Record<string, Record<string, unknown>>;
    expect(defaults).toEqual(Value.Default(ValuesSchema, {}));
    const leaves: string[][] = [];
    const walk = (node: unknown, path: string[]) => {
      if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
        for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
      } else leaves.push(path);
    };
    walk(defaults, []);
    const anyValue = fc.oneof(
      fc.integer({ min: -5, max: 2_000_000 }),
      fc.double({ noNaN: true, min: -10, max: 200 }),
      fc.string({ maxLength: 12 }),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom('allkeys-lru', 'Recommend', 'debug', 'redis:7.4.2', 'x:latest', 'a', 'cluster.local'),
    );
    fc.assert(
      fc.property(fc.constantFrom(...leaves), anyValue, (path, value) => {
        const changed = structuredClone(defaults) as Record<string, unknown>;
        let node = changed;
        for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
        node[path.at(-1) as string] = value;
        expect(
          schemaProblems(values, changed).length === 0,
          `${path.join('.')} = ${JSON.stringify(value)}`,
        ).toBe(Value.Check(ValuesSchema, changed));
      }),
      { numRuns: 300 },
    );
  });
});
