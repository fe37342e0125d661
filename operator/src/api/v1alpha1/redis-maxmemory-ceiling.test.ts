import { describe, expect, it } from 'vitest';
import { MAXMEMORY_CEILING_CEL_RULE, maxmemoryCeilingForLimitMiB } from './redis-maxmemory-ceiling.ts';

describe('maxmemoryCeilingForLimitMiB', () => {
  it.each([
    [1024, 768],
    [4096, 3072],
    [1000, 750],
    [33, 24],
  ])('a %i MiB container allows maxmemory up to %i MiB', (limit, ceiling) => {
    expect(maxmemoryCeilingForLimitMiB(limit)).toBe(ceiling);
  });

  it('the CRD rule says the same in integers', () => {
    expect(MAXMEMORY_CEILING_CEL_RULE).toBe('self.maxMiB * 4 <= self.containerMemoryLimitMiB * 3');
  });
});
