import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultValues, resolveValues } from './load-values.ts';
import { valuesYaml } from './values-yaml.ts';

describe('valuesYaml', () => {
  it('round-trips: the printed values resolve to the same values', () => {
    const values = resolveValues({ namespace: 'risk', redis: { maxmemoryMiB: 384 } });
    expect(resolveValues(parse(valuesYaml(values)))).toEqual(values);
  });

  it('documents each field with its description and allowed range', () => {
    const text = valuesYaml(defaultValues());
    expect(text).toContain(
      '  # hz: background task frequency (seed: 10).\n  # Allowed: an integer from 1 to 500.\n  hz: 10\n',
    );
    expect(text).toContain('    # DB_POOL_SIZE: base connections per pod (seed: 20).\n');
  });
});
