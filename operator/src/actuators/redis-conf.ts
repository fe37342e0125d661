/**
 * Rewriting the `maxmemory` directive of a whole redis.conf, as the common Helm charts mount it
 * from a ConfigMap key (Bitnami: `redis.conf`, `master.conf`, `replica.conf`). Pure: text in,
 * text out. Every other line is kept byte for byte, line endings included, so the owner's diff
 * shows one changed line.
 */

/** A redis.conf directive line `maxmemory <value>` (not `maxmemory-policy`), case-insensitive as Redis reads it. */
const MAXMEMORY_LINE = /^([ \t]*)(maxmemory)([ \t]+[^\r\n]*)?$/i;
/** An `include <file>` line: the included file may set maxmemory too. */
const INCLUDE_LINE = /^[ \t]*include[ \t]/i;

/** What rewriting did. */
export interface RedisConfRewrite {
  /** text is the new redis.conf. */
  readonly text: string;
  /** rewritten is the number of existing `maxmemory` lines given the new value. */
  readonly rewritten: number;
  /**
   * appended is true when a `maxmemory` line was added at the end: there was none, or an
   * `include` line follows the last one (Redis applies directives in order, so the last wins).
   */
  readonly appended: boolean;
}

/**
 * rewriteMaxMemoryLine sets every `maxmemory` directive of `conf` to `<mib>mb`, keeping each
 * line's indentation, spelling and line ending; comments (`# maxmemory …`) are left alone. When
 * no directive exists, or an `include` comes after the last one, a line is appended, with the
 * file's line ending (CRLF when its first line break is CRLF) and a line break first when the
 * file lacks a trailing one.
 */
export function rewriteMaxMemoryLine(conf: string, mib: number): RedisConfRewrite {
  if (!Number.isInteger(mib) || mib < 1)
    throw new RangeError(`maxmemory must be a whole number of MiB ≥ 1, got ${mib}`);
  const value = `${mib}mb`;
  // Split keeping each line's own ending: "a\r\n", "b\n", "c".
  const lines = conf.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  let rewritten = 0;
  let lastDirective = -1;
  let lastInclude = -1;
  const out = lines.map((line, index) => {
    const ending = /\r?\n$/.exec(line)?.[0] ?? '';
    const body = line.slice(0, line.length - ending.length);
    if (INCLUDE_LINE.test(body)) lastInclude = index;
    const match = MAXMEMORY_LINE.exec(body);
    if (!match) return line;
    lastDirective = index;
    rewritten++;
    return `${match[1]}${match[2]} ${value}${ending}`;
  });
  const appended = lastDirective < 0 || lastInclude > lastDirective;
  let text = out.join('');
  if (appended) {
    const firstBreak = conf.indexOf('\n');
    const eol = firstBreak > 0 && conf[firstBreak - 1] === '\r' ? '\r\n' : '\n';
    if (text.length > 0 && !text.endsWith('\n')) text += eol;
    text += `maxmemory ${value}${eol}`;
  }
  return { text, rewritten, appended };
}
