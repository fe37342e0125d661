import { describe, expect, it } from 'vitest';
import {
  CONFIG_ROLLED_AT_ANNOTATION,
  decideRollout,
  heldRollout,
  parsePoolKnob,
  validatePoolSettings,
} from './pool-settings.ts';

const now = new Date('2026-12-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();

describe('decideRollout', () => {
  it.each([
    [
      'same hash: nothing to roll',
      { currentHash: 'b', lastRolledAt: ago(10) },
      { roll: false, reason: 'unchanged' },
    ],
    ['new hash, never rolled', { currentHash: 'a', lastRolledAt: undefined }, { roll: true }],
    ['new hash, no hash yet', { currentHash: undefined, lastRolledAt: undefined }, { roll: true }],
    ['new hash, last roll a cooldown ago', { currentHash: 'a', lastRolledAt: ago(300) }, { roll: true }],
    ['new hash, last roll long ago', { currentHash: 'a', lastRolledAt: ago(86_400) }, { roll: true }],
    [
      'new hash, last roll 1 s short of the cooldown',
      { currentHash: 'a', lastRolledAt: ago(299) },
      { roll: false, reason: 'cooldown', notBefore: new Date(now.getTime() + 1000) },
    ],
    [
      'new hash, rolled just now',
      { currentHash: 'a', lastRolledAt: ago(0) },
      { roll: false, reason: 'cooldown', notBefore: new Date(now.getTime() + 300_000) },
    ],
    [
      'a last roll in the future (a clock ahead) counts as now',
      { currentHash: 'a', lastRolledAt: ago(-120) },
      { roll: false, reason: 'cooldown', notBefore: new Date(now.getTime() + 300_000) },
    ],
    [
      'an unreadable last roll counts as none',
      { currentHash: 'a', lastRolledAt: 'yesterday-ish' },
      { roll: true },
    ],
  ])('%s', (_name, input, expected) => {
    expect(decideRollout({ ...input, desiredHash: 'b', now, cooldownSeconds: 300 })).toEqual(expected);
  });

  it('rolls at every call with a cooldown of 0', () => {
    expect(
      decideRollout({ currentHash: 'a', desiredHash: 'b', lastRolledAt: ago(0), now, cooldownSeconds: 0 }),
    ).toEqual({
      roll: true,
    });
  });
});

describe('heldRollout: the cooldown read from the Deployment', () => {
  const before = { poolSize: 20, maxOverflow: 30 };
  const guard = { now, cooldownSeconds: 300 };
  const rolledAt = (at: string) => ({ metadata: { annotations: { [CONFIG_ROLLED_AT_ANNOTATION]: at } } });

  it('holds an unchanged pool as unchanged', () => {
    expect(heldRollout(rolledAt(ago(10)), { currentHash: 'b', desiredHash: 'b' }, guard, before)).toEqual({
      kind: 'unchanged',
      before,
    });
  });

  it('defers a change within the cooldown of the Deployment’s last roll', () => {
    expect(heldRollout(rolledAt(ago(299)), { currentHash: 'a', desiredHash: 'b' }, guard, before)).toEqual({
      kind: 'deferred',
      before,
      notBefore: new Date(now.getTime() + 1000),
    });
  });

  it('lets a change roll a cooldown after the last roll, or when the Deployment records none', () => {
    expect(
      heldRollout(rolledAt(ago(300)), { currentHash: 'a', desiredHash: 'b' }, guard, before),
    ).toBeUndefined();
    expect(heldRollout({}, { currentHash: 'a', desiredHash: 'b' }, guard, before)).toBeUndefined();
  });
});

describe('parsePoolKnob', () => {
  it.each([
    ['20', 20],
    ['0', 0],
    [' 7 ', 7],
    ['', undefined],
    ['  ', undefined],
    ['-1', undefined],
    ['2.5', undefined],
    ['twenty', undefined],
    [undefined, undefined],
  ])('reads %j as %j', (raw, expected) => {
    expect(parsePoolKnob(raw)).toBe(expected);
  });
});

describe('validatePoolSettings', () => {
  it.each([
    [{ poolSize: 0, maxOverflow: 0 }, /poolSize must be a whole number ≥ 1, got 0/],
    [{ poolSize: 2.5, maxOverflow: 0 }, /poolSize must be a whole number ≥ 1, got 2.5/],
    [{ poolSize: 5, maxOverflow: -1 }, /maxOverflow must be a whole number ≥ 0, got -1/],
    [{ poolSize: 5, maxOverflow: Number.NaN }, /maxOverflow must be a whole number ≥ 0, got NaN/],
  ])('refuses %j', (settings, message) => {
    expect(() => validatePoolSettings(settings)).toThrow(message);
  });

  it('accepts the seed pool', () => {
    expect(() => validatePoolSettings({ poolSize: 20, maxOverflow: 30 })).not.toThrow();
  });
});
