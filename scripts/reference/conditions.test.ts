import { describe, expect, it } from 'vitest';
import { constantTable, meaning } from './conditions.ts';

const docs = {
  name: 'ConditionReason',
  values: { Fine: 'Fine', Odd: 'Odd' },
  members: new Map([
    ['Fine', 'Fine: nothing | is wrong.'],
    ['Odd', 'Odd is True when something is odd.'],
  ]),
};

describe('meaning', () => {
  it('drops the `Name:` a doc comment starts with and keeps any other sentence whole', () => {
    expect(meaning(docs, 'Fine')).toBe('nothing | is wrong.');
    expect(meaning(docs, 'Odd')).toBe('Odd is True when something is odd.');
  });

  it('refuses a constant without a doc comment, naming it', () => {
    expect(() => meaning({ ...docs, members: new Map() }, 'Fine')).toThrow(
      'ConditionReason.Fine has no doc comment',
    );
  });
});

describe('constantTable', () => {
  it('gives one row per value, in declaration order', () => {
    expect(constantTable(docs, 'Reason')).toBe(
      '| Reason | Meaning |\n| --- | --- |\n| `Fine` | nothing \\| is wrong. |\n| `Odd` | Odd is True when something is odd. |',
    );
  });
});
