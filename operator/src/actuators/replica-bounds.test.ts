import { describe, expect, it } from 'vitest';
import { validateReplicaBounds } from './replica-bounds.ts';

describe('validateReplicaBounds', () => {
  it.each([
    [{ minReplicas: 0, maxReplicas: 3 }, /minReplicas must be a whole number ≥ 1, got 0/],
    [{ minReplicas: 1.5, maxReplicas: 3 }, /minReplicas must be a whole number ≥ 1, got 1.5/],
    [{ minReplicas: 4, maxReplicas: 3 }, /maxReplicas must be a whole number ≥ minReplicas \(4\), got 3/],
    [{ minReplicas: 2, maxReplicas: Number.POSITIVE_INFINITY }, /maxReplicas must be a whole number/],
  ])('refuses %j', (bounds, message) => {
    expect(() => validateReplicaBounds(bounds)).toThrow(message);
  });

  it.each([
    { minReplicas: 2, maxReplicas: 10 },
    { minReplicas: 3, maxReplicas: 3 },
  ])('accepts %j', (bounds) => {
    expect(() => validateReplicaBounds(bounds)).not.toThrow();
  });
});
