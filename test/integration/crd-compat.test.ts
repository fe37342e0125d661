/**
 * The CRD compatibility gate (crd-compat-gate.ts) in CI: the committed CRD must keep every profile
 * stored under the last release's CRD (crds/released/) working. The gate is also shown to fail,
 * on copies of the committed CRD with a field removed and with a bound tightened.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { CompatGate, type Crd, generatedSpecs, type UserProfile } from './crd-compat-gate.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** RELEASE is the last release whose CRD users may have stored profiles under. */
const RELEASE = 'v0.1.0';
/** GENERATED_CANDIDATES are sampled from the released schema; the released CRD's CEL rules refuse some. */
const GENERATED_CANDIDATES = 600;
/** MIN_GENERATED_STORED: the gate must check at least this many generated profiles. */
const MIN_GENERATED_STORED = 200;
/** SEED fixes the sample: every run checks the same profiles. */
const SEED = 20261206;

const released = parse(readFileSync(join(root, `crds/released/${RELEASE}.yaml`), 'utf8')) as Crd;
const current = parse(readFileSync(join(root, 'crds/performanceprofiles.perfpilot.dev.yaml'), 'utf8')) as Crd;

/** profiles are the release's valid samples and the generated ones, as users wrote them. */
function releasedProfiles(): UserProfile[] {
  const dir = join(root, `crds/released/${RELEASE}-samples`);
  const samples = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const sample = parse(readFileSync(join(dir, file), 'utf8')) as UserProfile & {
        metadata: { name: string };
      };
      return { name: `sample-${sample.metadata.name}`, spec: sample.spec };
    });
  const generated = generatedSpecs(released, GENERATED_CANDIDATES, SEED).map((spec, i) => ({
    name: `generated-${String(i).padStart(3, '0')}`,
    spec,
  }));
  return [...samples, ...generated];
}

/** EditableSchema is a CRD schema node a test may change. */
interface EditableSchema {
  properties: Record<string, EditableSchema>;
  maximum?: number;
  default?: Record<string, unknown>;
}

/** schemaAt walks `path` down the properties of `schema`. */
function schemaAt(schema: EditableSchema, path: readonly string[]): EditableSchema {
  return path.reduce((node, key) => {
    const next = node.properties[key];
    if (!next) throw new Error(`no property ${key} in the schema`);
    return next;
  }, schema);
}

/** mutated is a copy of the committed CRD with `change` made to its spec schema. */
function mutated(change: (spec: EditableSchema) => void): Crd {
  const copy = structuredClone(current);
  change(copy.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec as unknown as EditableSchema);
  return copy;
}

let cp: ControlPlane;
let gate: CompatGate;
const profiles = releasedProfiles();
const sampleCount = profiles.filter((p) => p.name.startsWith('sample-')).length;

beforeAll(async () => {
  cp = await startControlPlane();
  gate = new CompatGate(cp);
});

afterAll(async () => {
  await cp?.stop();
});

describe(`the CRD compatibility gate against ${RELEASE}`, () => {
  it('the committed CRD keeps every profile stored under the released one: it reads, keeps its fields, updates and re-applies', async () => {
    const report = await gate.run(released, current, profiles);
    expect(report.problems).toEqual([]);
    // Every sample of the release, and a few hundred generated profiles, were checked.
    expect(report.stored - sampleCount).toBeGreaterThanOrEqual(MIN_GENERATED_STORED);
    expect(report.stored + report.rejectedByReleased).toBe(profiles.length);
  }, 300_000);

  it('fails on a removed field: the stored value is pruned away', async () => {
    const withoutP95 = mutated((spec) => {
      // Gone from its parent's default too, or the API server refuses the CRD itself.
      const slo = schemaAt(spec, ['slo']);
      delete slo.properties.p95LatencyMs;
      delete slo.default?.p95LatencyMs;
    });
    const report = await gate.run(released, withoutP95, profiles);
    expect(report.problems).toContain('sample-minimal: spec.slo.p95LatencyMs: pruned');
    expect(report.problems.filter((p) => p.endsWith('spec.slo.p95LatencyMs: pruned'))).toHaveLength(
      report.stored,
    );
  }, 300_000);

  it('fails on a tightened bound: a profile the release accepted is refused when applied again', async () => {
    const tighter = mutated((spec) => {
      schemaAt(spec, ['knobs', 'poolSize', 'max']).maximum = 100;
    });
    const report = await gate.run(released, tighter, profiles);
    expect(report.problems.length).toBeGreaterThan(0);
    for (const problem of report.problems) {
      expect(problem).toMatch(
        /^[a-z0-9-]+: its manifest, applied afresh, is refused: 422 .*spec\.knobs\.poolSize\.max: Invalid value: \d+: spec\.knobs\.poolSize\.max in body should be less than or equal to 100/,
      );
    }
  }, 300_000);
});
