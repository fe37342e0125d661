/**
 * The conditions reference: every condition type, condition reason, decision outcome and Event
 * reason, each with the doc comment written where its constant is declared.
 */
import { cell, code, generatedNote, table } from './markdown.ts';

/** ConstantDocs is one constant object (e.g. ConditionReason): its values and each one's doc comment. */
export interface ConstantDocs {
  /** name is the constant's name, for the error when a value has no doc comment. */
  readonly name: string;
  readonly values: Readonly<Record<string, string>>;
  readonly members: ReadonlyMap<string, string>;
}

/** meaning is a member's doc comment without the leading `Name:` it repeats; throws when there is none. */
export function meaning(docs: ConstantDocs, key: string): string {
  const doc = docs.members.get(key) ?? '';
  if (doc === '')
    throw new Error(`${docs.name}.${key} has no doc comment: write what it means where it is declared`);
  return doc.startsWith(`${key}: `) ? doc.slice(key.length + 2) : doc;
}

/** constantTable renders one constant object as `value | meaning` rows, in declaration order. */
export function constantTable(docs: ConstantDocs, header: string): string {
  return table(
    [header, 'Meaning'],
    Object.entries(docs.values).map(([key, value]) => [code(value), cell(meaning(docs, key))]),
  );
}

/** The constant objects the page documents, as found in operator/src/api/v1alpha1/. */
export interface ConditionsSources {
  readonly conditionTypes: ConstantDocs;
  readonly conditionReasons: ConstantDocs;
  readonly decisionOutcomes: ConstantDocs;
  readonly eventReasons: ConstantDocs;
  /** limits are the operator's bounds on a condition message (characters) and an Event note (bytes). */
  readonly limits: { readonly conditionMessageChars: number; readonly eventNoteBytes: number };
}

/** conditionsReference renders docs/reference/conditions.md. */
export function conditionsReference(sources: ConditionsSources): string {
  return `${[
    generatedNote(
      'the doc comments of `ConditionType`, `ConditionReason`, `DecisionOutcome` and `EventReason` in operator/src/api/v1alpha1/',
    ),
    '# Conditions and Events reference',
    'A profile reports its state in `status.conditions` and explains each change in Events. ' +
      '`kubectl describe pp <name>` shows both.',
    '## Condition types',
    'Each condition has a `status` (`True`, `False` or `Unknown`), a `reason` from the next table and a message for humans.',
    constantTable(sources.conditionTypes, 'Type'),
    '## Condition reasons',
    "When a condition changes status, the operator also records an Event with the condition's reason: " +
      'a Warning for `Degraded=True`, `Ready=False` or `MetricsAvailable=False` (also on a new profile, ' +
      'and again when the causes of unknown metrics change), a Normal Event otherwise. A condition message ' +
      `is at most ${sources.limits.conditionMessageChars} characters; the Event carries the whole text ` +
      `(at most ${sources.limits.eventNoteBytes} bytes).`,
    constantTable(sources.conditionReasons, 'Reason'),
    '## Decision outcomes',
    'Each entry of `status.history` has one. A change recommended or applied is also an Event with the outcome as its reason.',
    constantTable(sources.decisionOutcomes, 'Outcome'),
    '## Other Event reasons',
    'Events of their own, beside the condition reasons and decision outcomes above. ' +
      'A reconcile that stops on another answer of the Kubernetes API records `HTTP<code>` (for example `HTTP404`).',
    constantTable(sources.eventReasons, 'Reason'),
  ].join('\n\n')}\n`;
}
