/**
 * The live table: one line per sample, fixed-width columns, a dash where nothing is measured yet.
 * Replicas are the HPA's; its Pods are kwok objects (no container runs), so the header says so.
 */
import type { DemoSample } from './demo-sample.ts';

const COLUMNS = [
  ['time', 5],
  ['phase', 16],
  ['RPS', 6],
  ['p95 ms', 7],
  ['err %', 6],
  ['hit %', 6],
  ['pool', 6],
  ['use %', 6],
  ['maxmem', 7],
  ['evict/s', 7],
  ['HPA (kwok Pods)', 15],
] as const;

const pad = (text: string, width: number) => (text.length >= width ? text : text.padStart(width));
const num = (v: number | null, digits = 0) => (v === null ? '–' : v.toFixed(digits));

/** tableHeader is the header line (and a note on what the replicas are). */
export function tableHeader(): string {
  const head = COLUMNS.map(([name, width], i) => (i === 1 ? name.padEnd(width) : pad(name, width))).join(' ');
  return `${head}  last decision\n${'-'.repeat(head.length + 15)}`;
}

/** tableRow formats one sample; `decisionWidth` bounds the last column. */
export function tableRow(s: DemoSample, decisionWidth = 60): string {
  const time = `${Math.floor(s.atSeconds / 60)}:${String(Math.floor(s.atSeconds % 60)).padStart(2, '0')}`;
  const pool = s.poolSize === null ? '–' : `${s.poolSize}+${s.maxOverflow ?? 0}`;
  const hpa = s.minReplicas === null ? '–' : `${s.minReplicas}-${s.maxReplicas} → ${num(s.desiredReplicas)}`;
  const cells = [
    time,
    s.phase.slice(0, 16),
    num(s.rps),
    num(s.p95Ms),
    num(s.errorRatePercent, 2),
    num(s.hitRatePercent, 1),
    pool,
    num(s.poolUsagePercent),
    s.maxmemoryMiB === null ? '–' : `${s.maxmemoryMiB}M`,
    num(s.evictedKeysPerSecond),
    hpa,
  ];
  const line = cells
    .map((c, i) => (i === 1 ? c.padEnd(COLUMNS[i]?.[1] ?? 0) : pad(c, COLUMNS[i]?.[1] ?? 0)))
    .join(' ');
  const decision = s.lastDecision ?? '(none yet)';
  return `${line}  ${decision.length > decisionWidth ? `${decision.slice(0, decisionWidth - 1)}…` : decision}`;
}
