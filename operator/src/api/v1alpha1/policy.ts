/** The control loop's timing and safety settings: interval, cooldown, step cap, windows, deadband. */
import Type, { type Static } from 'typebox';
import { EVALUATED_WITHIN_VERIFICATION, VERIFIED_WITHIN_COOLDOWN } from './cel-rules.ts';
import { DEFAULT_BURST, DEFAULT_FORECAST_MODE, DEFAULT_POLICY, FORECAST_MODES } from './defaults.ts';
import { intBound, StringEnum } from './schema-builders.ts';

/** Policy holds the control loop's timing and safety settings. */
export const Policy = Type.Object(
  {
    evaluationIntervalSeconds: intBound(
      'evaluationIntervalSeconds is how often the profile is evaluated.',
      DEFAULT_POLICY.evaluationIntervalSeconds,
      10,
      3600,
    ),
    cooldownSeconds: intBound(
      'cooldownSeconds is the least time between two changes of the same knob.',
      DEFAULT_POLICY.cooldownSeconds,
      0,
      86400,
    ),
    maxStepPercent: intBound(
      'maxStepPercent caps one change of a knob, in percent of its current value (at least one unit).',
      DEFAULT_POLICY.maxStepPercent,
      1,
      100,
    ),
    stabilizationWindowSeconds: intBound(
      'stabilizationWindowSeconds is how long a knob must wait before changing direction.',
      DEFAULT_POLICY.stabilizationWindowSeconds,
      0,
      86400,
    ),
    verificationWindowSeconds: intBound(
      'verificationWindowSeconds is how long after a change the SLOs are watched; a worse SLO in that window rolls the change back.',
      DEFAULT_POLICY.verificationWindowSeconds,
      10,
      86400,
    ),
    deadbandPercent: intBound(
      'deadbandPercent: proposals changing a knob by less than this share of its value are ignored, to avoid flapping.',
      DEFAULT_POLICY.deadbandPercent,
      0,
      50,
    ),
    burst: Type.Optional(
      Type.Object(
        {
          // A whole minimum: the API server compares a whole value with a fractional minimum
          // truncated (ratio 1 passed a minimum of 1.1 on v1.37), so only a whole bound holds.
          ratio: Type.Number({
            minimum: 2,
            maximum: 100,
            default: DEFAULT_BURST.ratio,
            description:
              'ratio is the multiple of what the ready pods serve at the HPA’s CPU target at which a request rate is a burst; minReplicas is then raised at once to what the rate needs (within the replica ceiling and the DB budget), skipping the cooldown and the step cap, and held for the stabilization window.',
          }),
        },
        {
          default: {},
          description:
            'burst is the burst response: the one rule that may change minReplicas inside the cooldown.',
        },
      ),
    ),
    forecast: Type.Optional(
      StringEnum(FORECAST_MODES, {
        default: DEFAULT_FORECAST_MODE,
        description:
          'forecast is the forecast floor: a seasonal forecast of the request rate (daily, weekly once two weeks exist) that raises minReplicas ahead of a forecast peak by the pods’ start-up plus one HPA sync, never below what the reactive rule asks and never past the DB budget. Off (quote it in YAML, "Off", or YAML 1.1 reads a boolean): not computed; Recommend: computed and shown in status with its error, not applied; Auto: applied. It needs one full day of history.',
      }),
    ),
  },
  {
    default: {},
    description: 'policy holds the control loop’s timing and safety settings.',
    'x-kubernetes-validations': [EVALUATED_WITHIN_VERIFICATION, VERIFIED_WITHIN_COOLDOWN],
  },
);
export type Policy = Static<typeof Policy>;
