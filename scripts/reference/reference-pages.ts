/**
 * referencePages builds every page of docs/reference/ from the definitions they describe: the
 * CRD object, the `perfpilot` program, the operator's metric registry and the API's constants.
 * Only this file knows where those live; the renderers beside it are pure.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { valuesTable } from '../../charts-ts/src/release.ts';
import { buildProgram } from '../../cli/perfpilot.ts';
import { EventReason } from '../../operator/src/api/v1alpha1/event-reasons.ts';
import {
  ConditionReason,
  ConditionType,
  DecisionOutcome,
  OperatorMetric,
  performanceProfileCrd,
} from '../../operator/src/api/v1alpha1/index.ts';
import { MAX_CONDITION_MESSAGE } from '../../operator/src/controller/conditions.ts';
import { MAX_NOTE_BYTES } from '../../operator/src/controller/events.ts';
import { createOperatorMetrics } from '../../operator/src/telemetry/metrics.ts';
import { cliReference } from './cli-commands.ts';
import { type ConstantDocs, conditionsReference } from './conditions.ts';
import { documentedConstant } from './doc-comments.ts';
import { generatedNote, table } from './markdown.ts';
import { type MetricLike, metricsReference } from './operator-metrics.ts';
import { profileReference } from './profile-fields.ts';

/** REFERENCE_DIR is where the pages go, relative to the repository root. */
export const REFERENCE_DIR = 'docs/reference';

/** A generated page: its path from the repository root and its whole content. */
export interface Page {
  readonly path: string;
  readonly content: string;
}

/** API_DIR holds the PerformanceProfile API's sources, whose doc comments the conditions page reads. */
const API_DIR = 'operator/src/api/v1alpha1';

/** constantDocs finds where `name` is declared in the API's sources and reads its doc comments. */
async function constantDocs(
  root: string,
  name: string,
  values: Record<string, string>,
): Promise<ConstantDocs> {
  const files = (await readdir(join(root, API_DIR))).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  );
  for (const file of files.sort()) {
    const path = join(API_DIR, file);
    const found = documentedConstant(await readFile(join(root, path), 'utf8'), name, path);
    if (found) return { name, values, members: found.members };
  }
  throw new Error(`no file in ${API_DIR} declares export const ${name}`);
}

/** The pages, with the one-line summary the index gives each. */
const PAGES = [
  [
    'performance-profile.md',
    'PerformanceProfile',
    'every field: type, default, bounds, description; CEL rules; printer columns',
  ],
  ['cli.md', 'perfpilot CLI', 'every command and option'],
  [
    'helm-values.md',
    'Helm chart values',
    'every value of the operator’s chart (and of `npm run release --values`)',
  ],
  ['metrics.md', 'Operator metrics', 'every metric the operator exports: type, labels, help'],
  [
    'conditions.md',
    'Conditions and Events',
    'every condition type, condition reason, decision outcome and Event reason',
  ],
] as const;

/** indexPage lists the generated pages (docs/reference/README.md). */
export function indexPage(): string {
  return `${[
    generatedNote('scripts/reference/reference-pages.ts'),
    '# Reference',
    'These pages are generated from the code they describe, so they are current at every commit. ' +
      '`npm run docs` writes them; `npm run docs:check` fails, naming the page, when one is stale.',
    table(
      ['Page', 'What it lists'],
      PAGES.map(([file, title, what]) => [`[${title}](${file})`, what]),
    ),
  ].join('\n\n')}\n`;
}

/** referencePages renders every page; `root` is the repository root the API's sources are read from. */
export async function referencePages(root: string): Promise<Page[]> {
  const metrics = createOperatorMetrics(new Registry());
  const content: Record<(typeof PAGES)[number][0], string> = {
    'performance-profile.md': profileReference(performanceProfileCrd()),
    'cli.md': cliReference(buildProgram()),
    'helm-values.md': [
      generatedNote('charts-ts/src/values-release.ts'),
      '# Helm chart values',
      'The values of the `perfpilot-operator` chart that `npm run release` writes. The same file is ' +
        '`npm run release -- --values FILE`, so the release bundle and the chart install the same objects. ' +
        'See [Install](../guides/install.md).',
      valuesTable(),
    ].join('\n\n'),
    'metrics.md': metricsReference(
      metrics.registry.getMetricsAsArray() as unknown as MetricLike[],
      Object.values(OperatorMetric),
    ),
    'conditions.md': conditionsReference({
      conditionTypes: await constantDocs(root, 'ConditionType', ConditionType),
      conditionReasons: await constantDocs(root, 'ConditionReason', ConditionReason),
      decisionOutcomes: await constantDocs(root, 'DecisionOutcome', DecisionOutcome),
      eventReasons: await constantDocs(root, 'EventReason', EventReason),
      limits: { conditionMessageChars: MAX_CONDITION_MESSAGE, eventNoteBytes: MAX_NOTE_BYTES },
    }),
  };
  return [
    { path: `${REFERENCE_DIR}/README.md`, content: indexPage() },
    ...PAGES.map(([file]) => ({ path: `${REFERENCE_DIR}/${file}`, content: content[file] })),
  ];
}
