/**
 * Reads the doc comments of an exported constant object (`export const ConditionReason = { ... }`)
 * from its TypeScript source, with a real parser (oxc, through rolldown), so each meaning is
 * written once: where the constant is declared.
 */
import { parseSync } from 'rolldown/experimental';

/** DocumentedConstant is an exported object's own doc comment and one per member. */
export interface DocumentedConstant {
  readonly doc: string;
  readonly members: ReadonlyMap<string, string>;
}

interface Node {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly [key: string]: unknown;
}

/** commentText turns `/** text *\/` into plain text: stars and line breaks gone. */
export function commentText(value: string): string {
  return value
    .split('\n')
    .map((line) => line.replace(/^\s*\*+\s?/, '').trim())
    .filter((line) => line !== '')
    .join(' ')
    .trim();
}

/**
 * documentedConstant finds `export const <name> = { ... }` (with or without `as const`) in
 * `source` and returns the doc comments before it and before each of its members; undefined
 * when the file does not declare it.
 */
export function documentedConstant(
  source: string,
  name: string,
  file = 'source.ts',
): DocumentedConstant | undefined {
  const parsed = parseSync(file, source, { lang: 'ts' });
  if (parsed.errors.length > 0) throw new Error(`${file}: ${parsed.errors[0]?.message ?? 'parse error'}`);
  const docs = parsed.comments.filter((c) => c.type === 'Block' && c.value.startsWith('*'));
  /** docBefore is the doc comment ending last before `start` and after `after`. */
  const docBefore = (after: number, start: number) =>
    docs
      .filter((c) => c.end <= start && c.start >= after)
      .at(-1)
      ?.value.slice(1) ?? '';
  let previousEnd = 0;
  for (const statement of parsed.program.body as unknown as Node[]) {
    const declaration = statement.declaration as Node | null | undefined;
    const declarator = (declaration?.declarations as Node[] | undefined)?.[0];
    const id = declarator?.id as { name?: string } | undefined;
    if (statement.type !== 'ExportNamedDeclaration' || id?.name !== name || !declarator) {
      previousEnd = statement.end;
      continue;
    }
    let init = declarator.init as Node | undefined;
    while (init && (init.type === 'TSAsExpression' || init.type === 'TSSatisfiesExpression')) {
      init = init.expression as Node;
    }
    if (init?.type !== 'ObjectExpression') throw new Error(`${file}: ${name} is not an object literal`);
    const members = new Map<string, string>();
    let memberAfter = init.start;
    for (const property of init.properties as Node[]) {
      const key = property.key as { name?: string; value?: string } | undefined;
      const keyName = key?.name ?? key?.value;
      if (property.type === 'Property' && keyName !== undefined) {
        members.set(keyName, commentText(docBefore(memberAfter, property.start)));
      }
      memberAfter = property.end;
    }
    return { doc: commentText(docBefore(previousEnd, statement.start)), members };
  }
  return undefined;
}
