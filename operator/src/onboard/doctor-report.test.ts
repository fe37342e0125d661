import { describe, expect, it } from 'vitest';
import { type DoctorLine, doctorFailed, doctorJson, formatDoctorTable } from './doctor-report.ts';

const lines: DoctorLine[] = [
  { verdict: 'ok', check: 'signal requestsPerSecond', detail: '1 series: 24.5', more: ['query: sum(x)'] },
  { verdict: 'warn', check: 'HPA owner', detail: 'KEDA owns this HPA', fix: 'keep it in Observe' },
  {
    verdict: 'fail',
    check: 'Redis 10.0.0.1:6379',
    detail: 'authentication failed',
    fix: 'first line\nsecond line',
  },
];

describe('formatDoctorTable', () => {
  it('prints one row per check, further detail and the fix below it in the DETAIL column', () => {
    expect(formatDoctorTable('perfpilot doctor shop/api', lines)).toBe(
      [
        'perfpilot doctor shop/api: 3 checks, 1 ok, 1 warn, 1 fail',
        '',
        'VERDICT  CHECK                     DETAIL',
        'ok       signal requestsPerSecond  1 series: 24.5',
        '                                   query: sum(x)',
        'warn     HPA owner                 KEDA owns this HPA',
        '                                   fix: keep it in Observe',
        'fail     Redis 10.0.0.1:6379       authentication failed',
        '                                   fix: first line',
        '                                        second line',
      ].join('\n'),
    );
  });

  it('leaves out the fix of a line that is ok', () => {
    const table = formatDoctorTable('t', [{ verdict: 'ok', check: 'c', detail: 'd', fix: 'never shown' }]);
    expect(table).not.toContain('never shown');
  });
});

describe('doctorFailed and doctorJson', () => {
  it('fails on any failing line and on none else', () => {
    expect(doctorFailed(lines)).toBe(true);
    expect(doctorFailed(lines.slice(0, 2))).toBe(false);
  });

  it('carries every line, the counts and the outcome', () => {
    const parsed = JSON.parse(doctorJson('shop/api', lines));
    expect(parsed).toMatchObject({ profile: 'shop/api', failed: true, counts: { ok: 1, warn: 1, fail: 1 } });
    expect(parsed.checks).toEqual(lines);
  });
});
