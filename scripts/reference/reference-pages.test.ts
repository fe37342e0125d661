import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EventReason } from '../../operator/src/api/v1alpha1/event-reasons.ts';
import { ConditionReason, ConditionType, DecisionOutcome } from '../../operator/src/api/v1alpha1/index.ts';
import { referencePages } from './reference-pages.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('referencePages', () => {
  const pages = referencePages(root);

  it('writes the index and one page per reference under docs/reference', async () => {
    expect((await pages).map((p) => p.path)).toEqual([
      'docs/reference/README.md',
      'docs/reference/performance-profile.md',
      'docs/reference/cli.md',
      'docs/reference/helm-values.md',
      'docs/reference/metrics.md',
      'docs/reference/conditions.md',
    ]);
  });

  it('links the index to every page', async () => {
    const [index, ...rest] = await pages;
    for (const page of rest) expect(index?.content).toContain(`](${page.path.split('/').at(-1)})`);
  });

  it('gives every condition type, condition reason, decision outcome and Event reason its meaning', async () => {
    const conditions = (await pages).find((p) => p.path.endsWith('conditions.md'))?.content ?? '';
    const values = [ConditionType, ConditionReason, DecisionOutcome, EventReason].flatMap((c) =>
      Object.values(c),
    );
    for (const value of values) expect(conditions).toMatch(new RegExp(`\\| \`${value}\` \\| \\S`));
    // Each meaning comes from the doc comment where the constant is declared.
    expect(conditions).toContain(
      '| `SecretUnreadable` | a Secret the profile names is missing or lacks the key. |',
    );
  });
});
