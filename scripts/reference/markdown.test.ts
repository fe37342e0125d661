import { describe, expect, it } from 'vitest';
import { cell, code, table } from './markdown.ts';

describe('cell', () => {
  it.each([
    ['plain text', 'plain text'],
    ['a | b', 'a \\| b'],
    ['first line\nsecond line', 'first line<br>second line'],
    ['windows\r\nline', 'windows<br>line'],
    ['holds `maxmemory <n>mb`', 'holds `maxmemory <n>mb`'],
    ['defaults to "<name>-tuning"', 'defaults to "&lt;name>-tuning"'],
    ['x <= y and a < 3', 'x <= y and a < 3'],
    ['`a|b` or c', '`a\\|b` or c'],
    ['  padded  ', 'padded'],
  ])('%j becomes %j', (text, expected) => {
    expect(cell(text)).toBe(expected);
  });
});

describe('code', () => {
  it.each([
    ['spec.mode', '`spec.mode`'],
    ['^(a|b)$', '`^(a\\|b)$`'],
    // A span holding backticks is fenced by a longer run, and padded where it touches one.
    ['has `ticks`', '`` has `ticks` ``'],
    ['two\nlines', '`two lines`'],
  ])('%j becomes %j', (text, expected) => {
    expect(code(text)).toBe(expected);
  });
});

describe('table', () => {
  it('renders a header, its rule and one line per row', () => {
    expect(
      table(
        ['A', 'B'],
        [
          ['1', '2'],
          ['3', '4'],
        ],
      ),
    ).toBe('| A | B |\n| --- | --- |\n| 1 | 2 |\n| 3 | 4 |');
  });
});
