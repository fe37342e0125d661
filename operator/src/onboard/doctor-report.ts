/**
 * The report of `perfpilot doctor`: one line per check with a verdict, what was found and, when
 * it is not ok, the fix; printed as one table or as JSON. Pure.
 */

/** Verdict of one check: ok, warn (works, with a caveat), fail (the profile cannot work as it is). */
export type Verdict = 'ok' | 'warn' | 'fail';

/** One line of the report. */
export interface DoctorLine {
  readonly verdict: Verdict;
  /** check names what was checked, e.g. `signal p95LatencyMs` or `Redis 10.0.0.5:6379`. */
  readonly check: string;
  /** detail says what was found, e.g. `1 series: 98.2, newest sample 1 s old`. */
  readonly detail: string;
  /** more holds further lines of detail, e.g. the query that ran. */
  readonly more?: readonly string[];
  /** fix says what to do when the verdict is not ok; may hold several lines (commands). */
  readonly fix?: string;
}

/** doctorFailed is true when any line fails: the command's exit status is then non-zero. */
export function doctorFailed(lines: readonly DoctorLine[]): boolean {
  return lines.some((line) => line.verdict === 'fail');
}

/** countVerdicts counts the lines per verdict. */
export function countVerdicts(lines: readonly DoctorLine[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { ok: 0, warn: 0, fail: 0 };
  for (const line of lines) counts[line.verdict]++;
  return counts;
}

/**
 * formatDoctorTable prints the lines as one table (VERDICT, CHECK, DETAIL), under a summary
 * line. Further detail and the fix go on lines of their own in the DETAIL column, so a long query
 * or a command does not widen the table.
 */
export function formatDoctorTable(title: string, lines: readonly DoctorLine[]): string {
  const counts = countVerdicts(lines);
  const header = ['VERDICT', 'CHECK', 'DETAIL'] as const;
  const verdictWidth = Math.max(header[0].length, ...lines.map((l) => l.verdict.length));
  const checkWidth = Math.max(header[1].length, ...lines.map((l) => l.check.length));
  const indent = ' '.repeat(verdictWidth + 2 + checkWidth + 2);
  const row = (verdict: string, check: string, detail: string) =>
    `${verdict.padEnd(verdictWidth)}  ${check.padEnd(checkWidth)}  ${detail}`.trimEnd();
  const out = [
    `${title}: ${lines.length} checks, ${counts.ok} ok, ${counts.warn} warn, ${counts.fail} fail`,
    '',
    row(...header),
  ];
  for (const line of lines) {
    out.push(row(line.verdict, line.check, line.detail));
    for (const more of line.more ?? []) out.push(`${indent}${more}`);
    if (line.fix && line.verdict !== 'ok') {
      const [first, ...rest] = line.fix.split('\n');
      out.push(`${indent}fix: ${first}`);
      for (const next of rest) out.push(`${indent}     ${next}`);
    }
  }
  return out.join('\n');
}

/** doctorJson is the report as JSON: the lines, the counts and whether any failed. */
export function doctorJson(profile: string, lines: readonly DoctorLine[]): string {
  return JSON.stringify(
    { profile, failed: doctorFailed(lines), counts: countVerdicts(lines), checks: lines },
    null,
    2,
  );
}
