/**
 * A phase and a decision as the demo's result reports them (the `--json` shape). The report
 * (demo-report.ts) and the maxmemory effects (knob-effect.ts) both read them, so they live apart
 * from both.
 */
import type { Decision } from '../../operator/src/api/v1alpha1/index.ts';

/** A phase as the demo's result reports it (the `--json` shape). */
export interface PhaseResult {
  readonly name: string;
  readonly fromSeconds: number;
  readonly toSeconds: number;
  readonly rps: number;
  readonly p95Ms: number;
  readonly errorRate: number;
  readonly hitRate: number | null;
  readonly poolUsage: number | null;
  readonly knobs: {
    readonly poolSize: number | null;
    readonly maxOverflow: number | null;
    readonly redisMaxmemoryMiB: number | null;
    readonly minReplicas: number | null;
    readonly maxReplicas: number | null;
    readonly desiredReplicas: number | null;
  };
}

/** A decision as the demo's result reports it: the status history's entry, timed from the load's start. */
export type DecisionResult = Pick<Decision, 'knob' | 'from' | 'to' | 'outcome' | 'reason'> & {
  readonly atSeconds: number;
};
