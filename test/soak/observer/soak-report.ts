/**
 * The soak's report, built by the observer from what it read and what the runner recorded (the
 * faults it injected and the load generator's slices): the `--json` object and its table.
 */
import {
  accountChanges,
  type Breach,
  type EventSeen,
  type FailedRequests,
  type FaultRecord,
  type HistoryEntry,
  type LoadSlice,
  type Recovery,
  type RssTrend,
  recoveryByType,
  reversals,
  rssTrend,
  type Sample,
  splitFailedRequests,
} from './invariants.ts';

/** Seconds after a fault's end during which failed requests still count as the fault's. */
export const FAILED_REQUEST_GRACE_SECONDS = 15;

/** The soak's outcome, printed by `--json`. */
export interface SoakReport {
  readonly seed: number;
  readonly durationSeconds: number;
  /** faults injected: how many in all, and by type. */
  readonly faults: { readonly injected: number; readonly byType: Record<string, number> };
  /** breaches of every invariant, each with its time in seconds since the run began (goal: none). */
  readonly breaches: { readonly atSeconds: number; readonly invariant: string; readonly detail: string }[];
  /** lost and duplicated changes (goal: 0 each), with what did not match. */
  readonly lost: number;
  readonly duplicated: number;
  readonly changeDetails: string[];
  /** changes seen on the target, recorded in status.history. */
  readonly changes: number;
  readonly recovery: Record<string, Recovery>;
  readonly failedRequests: FailedRequests;
  readonly rss: RssTrend;
  readonly samples: number;
}

/** What the observer hands to judgeRun at the end. */
export interface RunRecord {
  readonly seed: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly samples: readonly Sample[];
  /** breaches seen sample by sample. */
  readonly breaches: readonly Breach[];
  readonly history: readonly HistoryEntry[];
  readonly events: readonly EventSeen[];
  readonly faults: readonly FaultRecord[];
  readonly load: readonly LoadSlice[];
  readonly stabilizationWindowSeconds: number;
}

/** judgeRun turns a run's record into the report. */
export function judgeRun(run: RunRecord): SoakReport {
  const since = run.samples[0]?.t ?? run.startedAt;
  const account = accountChanges(run.samples, run.history, run.events, since);
  const failedRequests = splitFailedRequests(run.load, run.faults, FAILED_REQUEST_GRACE_SECONDS);
  const all: Breach[] = [...run.breaches, ...reversals(run.history, run.stabilizationWindowSeconds)];
  if (failedRequests.outsideFaultWindows > 0) {
    all.push({
      t: run.endedAt,
      invariant: 'failed-requests',
      detail: `${failedRequests.outsideFaultWindows} requests failed outside every fault window + ${FAILED_REQUEST_GRACE_SECONDS} s`,
    });
  }
  const byType: Record<string, number> = {};
  for (const f of run.faults) byType[f.type] = (byType[f.type] ?? 0) + 1;
  return {
    seed: run.seed,
    durationSeconds: Math.round((run.endedAt - run.startedAt) / 1000),
    faults: { injected: run.faults.length, byType },
    breaches: all
      .sort((a, b) => a.t - b.t)
      .map((b) => ({
        atSeconds: Math.round((b.t - run.startedAt) / 1000),
        invariant: b.invariant,
        detail: b.detail,
      })),
    lost: account.lost,
    duplicated: account.duplicated,
    changeDetails: account.details,
    changes: run.history.filter((h) => h.outcome === 'Applied' || h.outcome === 'RolledBack').length,
    recovery: recoveryByType(run.samples, run.faults),
    failedRequests,
    rss: rssTrend(run.samples),
    samples: run.samples.length,
  };
}

const show = (v: number | null, unit = '') => (v === null ? '–' : `${v}${unit}`);

/** renderReport is the report as plain-text tables, for the terminal and report.md. */
export function renderReport(r: SoakReport): string {
  const lines = [
    `soak: seed ${r.seed}, ${r.durationSeconds} s, ${r.samples} observer samples`,
    '',
    '| fault | injected | recovery median | recovery max | not recovered |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...Object.entries(r.faults.byType).map(([type, n]) => {
      const rec = r.recovery[type];
      return `| ${type} | ${n} | ${show(rec?.medianSeconds ?? null, ' s')} | ${show(rec?.maxSeconds ?? null, ' s')} | ${rec?.notRecovered ?? 0} |`;
    }),
    '',
    '| measure | value |',
    '| --- | ---: |',
    `| faults injected | ${r.faults.injected} |`,
    `| breaches | ${r.breaches.length} |`,
    `| changes recorded | ${r.changes} |`,
    `| changes lost | ${r.lost} |`,
    `| changes duplicated | ${r.duplicated} |`,
    `| requests | ${r.failedRequests.requests} |`,
    `| failed in fault windows (+${r.failedRequests.graceSeconds} s) | ${r.failedRequests.inFaultWindows} |`,
    `| failed outside fault windows | ${r.failedRequests.outsideFaultWindows} |`,
    `| operator RSS start / end (${r.rss.identity ?? '–'}) | ${show(r.rss.startMiB, ' MiB')} / ${show(r.rss.endMiB, ' MiB')} |`,
    `| operator RSS slope | ${show(r.rss.slopeMiBPerHour, ' MiB/h')} |`,
  ];
  if (r.breaches.length > 0) {
    lines.push(
      '',
      'breaches:',
      ...r.breaches.map((b) => `- at ${b.atSeconds} s, ${b.invariant}: ${b.detail}`),
    );
  }
  if (r.changeDetails.length > 0)
    lines.push('', 'unmatched changes:', ...r.changeDetails.map((d) => `- ${d}`));
  return lines.join('\n');
}
