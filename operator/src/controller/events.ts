/**
 * Kubernetes Events (events.k8s.io/v1) on a PerformanceProfile: `kubectl describe pp` shows them.
 * Recording is best effort: a failed Event is logged, never fails a reconcile.
 */
import { EventsV1Api, type KubeConfig, V1MicroTime } from '@kubernetes/client-node';
import { API_VERSION, KIND, type PerformanceProfile } from '../api/v1alpha1/index.ts';
import { type Clock, systemClock } from '../runtime/clock.ts';
import type { Logger } from '../telemetry/logger.ts';
import { shortenByClauses } from './short-text.ts';

/**
 * MAX_NOTE_BYTES is the API server's bound on an Event's note: 1 KiB, counted in bytes of UTF-8,
 * so a note of 1,024 characters with an arrow or an ellipsis in it is refused.
 */
export const MAX_NOTE_BYTES = 1024;

/** eventNote bounds `note` to MAX_NOTE_BYTES, cutting between whole clauses. */
export function eventNote(note: string): string {
  return shortenByClauses(note, (text) => Buffer.byteLength(text, 'utf8') <= MAX_NOTE_BYTES);
}

/** REPORTING_CONTROLLER names the operator in every Event it writes. */
export const REPORTING_CONTROLLER = 'perfpilot.dev/operator';

/** An Event to record on a profile. */
export interface ProfileEvent {
  readonly type: 'Normal' | 'Warning';
  /** reason is CamelCase and machine-readable, e.g. `TargetNotFound`. */
  readonly reason: string;
  /** action is what the operator did or failed to do, e.g. `Reconcile`, `Restore`. */
  readonly action: string;
  /** note explains it for humans; one over MAX_NOTE_BYTES is cut by {@link eventNote}. */
  readonly note: string;
}

/** EventRecorder writes Events about profiles. */
export interface EventRecorder {
  record(profile: PerformanceProfile, event: ProfileEvent): Promise<void>;
}

/** createEventRecorder writes Events as `reportingInstance` (the operator's pod name), stamped by `clock`. */
export function createEventRecorder(
  kubeConfig: KubeConfig,
  reportingInstance: string,
  logger: Logger,
  clock: Clock = systemClock,
): EventRecorder {
  const events = kubeConfig.makeApiClient(EventsV1Api);
  return {
    async record(profile, event) {
      const namespace = profile.metadata.namespace ?? 'default';
      try {
        await events.createNamespacedEvent({
          namespace,
          body: {
            metadata: { generateName: `${profile.metadata.name}-`, namespace },
            eventTime: new V1MicroTime(clock.date().getTime()),
            reportingController: REPORTING_CONTROLLER,
            reportingInstance,
            action: event.action,
            reason: event.reason,
            note: eventNote(event.note),
            type: event.type,
            regarding: {
              apiVersion: API_VERSION,
              kind: KIND,
              name: profile.metadata.name,
              namespace,
              uid: profile.metadata.uid,
              resourceVersion: profile.metadata.resourceVersion,
            },
          },
        });
      } catch (err) {
        logger.warn({ err, reason: event.reason }, 'event not recorded');
      }
    },
  };
}
