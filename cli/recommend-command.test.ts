import { describe, expect, it } from 'vitest';
import { formatObjectiveCosts } from './recommend-command.ts';

describe('formatObjectiveCosts', () => {
  it('gives the GiB, the maxmemory change, the price a day and a month, and why', () => {
    const [line] = formatObjectiveCosts(
      [
        {
          objective: 'cacheHitRate',
          target: 0.85,
          fromMiB: 512,
          toMiB: 2560,
          extraGiB: 2,
          why: 'the hits save no pod',
        },
      ],
      0.006,
    );
    expect(line).toBe(
      'cost of an objective: the 85 % hit-rate objective alone asks for +2.00 GiB of Redis ' +
        '(maxmemory 512 → 2560 MiB), $0.29 a day ($8.64 a month) at $0.006 per GiB-hour: the hits save no pod',
    );
  });
});
