import { describe, expect, it } from 'vitest';
import { commentText, documentedConstant } from './doc-comments.ts';

const source = `
/** Other is another constant. */
export const Other = { A: 'A' } as const;

/**
 * Reason lists reasons:
 * one meaning each.
 */
export const Reason = {
  /** Fine: nothing is wrong. */
  Fine: 'Fine',
  // a line comment is no doc comment
  Bare: 'Bare',
  /**
   * Broken: it spans
   * two lines.
   */
  'Quoted': 'Quoted',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
`;

describe('documentedConstant', () => {
  const found = documentedConstant(source, 'Reason');

  it("reads the constant's own doc comment", () => {
    expect(found?.doc).toBe('Reason lists reasons: one meaning each.');
  });

  it("reads each member's doc comment, empty where it has none", () => {
    expect(Object.fromEntries(found?.members ?? [])).toEqual({
      Fine: 'Fine: nothing is wrong.',
      Bare: '',
      Quoted: 'Broken: it spans two lines.',
    });
  });

  it('takes no comment of the statement before for its own', () => {
    expect(documentedConstant(source, 'Other')?.doc).toBe('Other is another constant.');
    expect(documentedConstant('const x = 1;\nexport const Y = {};', 'Y')?.doc).toBe('');
  });

  it('is undefined when the source does not declare the constant', () => {
    expect(documentedConstant(source, 'Missing')).toBeUndefined();
  });

  it('fails on a source it cannot parse, naming the file', () => {
    expect(() => documentedConstant('export const = {', 'X', 'broken.ts')).toThrow(/broken\.ts/);
  });
});

describe('commentText', () => {
  it('drops the stars and joins the lines', () => {
    expect(commentText('*\n   * one\n   * two\n   ')).toBe('one two');
  });
});
