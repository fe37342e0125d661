import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Crd, specSchemaOf } from './crd-compat-gate.ts';
import { breakOneField } from './fuzz-mutation.ts';

const crd = parse(
  readFileSync(join(import.meta.dirname, '../../crds/performanceprofiles.perfpilot.dev.yaml'), 'utf8'),
) as Crd;
const schema = specSchemaOf(crd);
const spec = {
  targetRef: { name: 'risk-api' },
  mode: 'Auto',
  policy: { evaluationIntervalSeconds: 30 },
};

/** valueAt reads a path such as spec.policy.evaluationIntervalSeconds. */
const valueAt = (root: unknown, path: string) =>
  path
    .split('.')
    .slice(1)
    .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], root);

describe('breakOneField', () => {
  it.each([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99])(
    'pick %s changes exactly the field it names, and leaves the original alone',
    (pick) => {
      const before = structuredClone(spec);
      const broken = breakOneField(spec, schema, pick);
      expect(spec).toEqual(before);
      expect(valueAt(broken.spec, broken.field)).not.toEqual(valueAt({ ...spec }, broken.field));
      if (broken.field === 'spec') {
        expect(typeof broken.spec).toBe('string');
        return;
      }
      // Everything else is as it was: putting the original value back gives the original spec.
      const keys = broken.field.split('.').slice(1);
      const last = keys.pop() as string;
      const restored = structuredClone(broken.spec);
      const parent = keys.reduce((v, k) => v[k] as Record<string, unknown>, restored);
      const original = valueAt(spec, broken.field);
      if (original === undefined) delete parent[last];
      else parent[last] = original;
      expect(restored).toEqual(spec);
    },
  );

  it('breaks by bound, type, enum and required field', () => {
    const hows = new Set(Array.from({ length: 200 }, (_, i) => breakOneField(spec, schema, i / 200).how));
    expect([...hows].sort()).toEqual(
      expect.arrayContaining([
        'a required field removed',
        'an unknown enum value',
        'a string where a number belongs',
        'above its maximum 3600',
        'below its minimum 10',
      ]),
    );
  });
});
