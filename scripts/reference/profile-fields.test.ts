import { describe, expect, it } from 'vitest';
import { type JsonSchemaProps, performanceProfileCrd } from '../../operator/src/api/v1alpha1/index.ts';
import { celRows, constraintsOf, fieldRows, profileReference, typeOf } from './profile-fields.ts';

/** A small schema with what the real one has: nesting, arrays of objects, required, defaults, a rule. */
const sample: JsonSchemaProps = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', description: 'name of the target.', minLength: 1, maxLength: 253 },
    limits: {
      type: 'object',
      default: { min: 1 },
      properties: { min: { type: 'integer', default: 1, minimum: 1 } },
      'x-kubernetes-validations': [{ rule: 'self.min <= 9', message: 'min | at most 9', fieldPath: '.min' }],
    },
    history: {
      type: 'array',
      maxItems: 20,
      items: { type: 'object', properties: { time: { type: 'string', format: 'date-time' } } },
    },
  },
};

describe('fieldRows', () => {
  it('flattens every property, array items included, in schema order', () => {
    expect(fieldRows(sample, 'spec').map((r) => [r.path, r.type, r.required])).toEqual([
      ['spec.name', 'string', true],
      ['spec.limits', 'object', false],
      ['spec.limits.min', 'integer', false],
      ['spec.history', 'array of object', false],
      ['spec.history[].time', 'string (date-time)', false],
    ]);
  });

  it('keeps defaults and descriptions', () => {
    const rows = fieldRows(sample, 'spec');
    expect(rows.find((r) => r.path === 'spec.limits.min')?.default).toBe(1);
    expect(rows.find((r) => r.path === 'spec.name')?.description).toBe('name of the target.');
  });
});

describe('constraintsOf', () => {
  it.each<[JsonSchemaProps, string[]]>([
    [{ type: 'integer', minimum: 1, maximum: 500 }, ['1 to 500']],
    [{ type: 'integer', minimum: 0 }, ['at least 0']],
    [{ type: 'string', maxLength: 63 }, ['at most 63 characters']],
    [{ type: 'array', minItems: 1, maxItems: 6 }, ['1 to 6 items']],
    [{ type: 'string', enum: ['Observe', 'Auto'] }, ['one of: `Observe`, `Auto`']],
    [{ type: 'string', pattern: '^(a|b)$' }, ['pattern `^(a\\|b)$`']],
    [
      { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
      ['list type `map`, keyed by `type`'],
    ],
    [{ type: 'string' }, []],
  ])('%j gives %j', (schema, expected) => {
    expect(constraintsOf(schema)).toEqual(expected);
  });
});

describe('typeOf', () => {
  it('names nested arrays by their items', () => {
    expect(
      typeOf({ type: 'array', items: { type: 'array', items: { type: 'integer', format: 'int64' } } }),
    ).toBe('array of array of integer (int64)');
  });
});

describe('celRows', () => {
  it('finds rules at any depth with the path that carries them', () => {
    expect(celRows(sample, 'spec')).toEqual([
      { path: 'spec.limits', rule: 'self.min <= 9', message: 'min | at most 9', fieldPath: '.min' },
    ]);
  });
});

describe('profileReference', () => {
  const page = profileReference(performanceProfileCrd());
  const line = (path: string) => page.split('\n').find((l) => l.startsWith(`| \`${path}\` |`));

  it('has a row for every field of the CRD, spec and status', () => {
    const schema = performanceProfileCrd().spec.versions[0]?.schema.openAPIV3Schema as JsonSchemaProps;
    const paths: string[] = [];
    const walk = (node: JsonSchemaProps, path: string) => {
      for (const [name, child] of Object.entries(node.properties ?? {})) {
        paths.push(`${path}.${name}`);
        walk(child, `${path}.${name}`);
      }
      if (node.items) walk(node.items, `${path}[]`);
    };
    for (const part of ['spec', 'status'] as const) {
      const node = schema.properties?.[part];
      if (node) walk(node, part);
    }
    expect(paths.length).toBeGreaterThan(50);
    expect(paths.filter((p) => line(p) === undefined)).toEqual([]);
  });

  it("gives a field's type, default, bounds and description", () => {
    expect(line('spec.mode')).toContain(
      '| string | `"Recommend"` | one of: `Observe`, `Recommend`, `Auto` |',
    );
    expect(line('spec.database.maxConnections')).toMatch(
      /\| integer \| `100` \| 1 to 100000 \| maxConnections is/,
    );
  });

  it('lists each CEL rule with the message the API server answers', () => {
    expect(page).toContain(
      '| `spec.knobs.redisMaxmemory` | `self.maxMiB * 4 <= self.containerMemoryLimitMiB * 3` | redisMaxmemory.maxMiB must be at most 75%',
    );
  });

  it('lists the printer columns kubectl get shows', () => {
    expect(page).toContain('| Ready | string | `.status.conditions[?(@.type=="Ready")].status` | 0 |');
  });

  it('escapes the pipes of regular expressions and CEL rules, so no table row gains a column', () => {
    const columns = (l: string) => l.replaceAll('\\|', '').split('|').length;
    const tables = page.split('\n\n').filter((block) => block.startsWith('|'));
    expect(tables.length).toBe(5);
    for (const block of tables) {
      const [header = '', ...rows] = block.trimEnd().split('\n');
      expect(rows.filter((row) => columns(row) !== columns(header))).toEqual([]);
    }
  });
});
