/**
 * The sample profiles in crds/samples/ are fixtures for the operator's tests: each valid one must
 * pass the schema, each invalid one must say what is wrong and which field the API server names.
 * Offline we check what TypeBox can (types, bounds, patterns, required fields); the CEL rules and
 * unknown fields are checked against the real API server in test/integration.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Value from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { API_VERSION, KIND } from './constants.ts';
import { PerformanceProfileSpec } from './performance-profile.ts';

const dir = join(import.meta.dirname, '../../../../crds/samples');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const valid = files.filter((f) => f.startsWith('valid-'));
const invalid = files.filter((f) => f.startsWith('invalid-'));

function load(file: string) {
  const text = readFileSync(join(dir, file), 'utf8');
  return {
    text,
    doc: parse(text) as { apiVersion: string; kind: string; metadata: { name: string }; spec?: unknown },
    expectField: /^# expect-field: (.+)$/m.exec(text)?.[1],
    checkedOnlyByServer: /\(CEL rule|unknown field|not a field of the API/.test(text),
  };
}

/** The JSON pointer of a field path such as spec.metrics.redis.endpoints[0], relative to spec. */
function pointerOf(field: string): string {
  return `/${field
    .replace(/^spec\.?/, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .join('/')}`.replace(/\/$/, '');
}

describe('sample PerformanceProfiles', () => {
  it('has at least 3 valid and 30 invalid samples', () => {
    expect(valid.length).toBeGreaterThanOrEqual(3);
    expect(invalid.length).toBeGreaterThanOrEqual(30);
  });

  it.each(valid)('%s passes the schema once defaults are applied', (file) => {
    const { doc } = load(file);
    expect(doc.apiVersion).toBe(API_VERSION);
    expect(doc.kind).toBe(KIND);
    const spec = Value.Default(PerformanceProfileSpec, structuredClone(doc.spec));
    expect([...Value.Errors(PerformanceProfileSpec, spec)]).toEqual([]);
  });

  it.each(invalid)('%s says what is wrong and which field the API server names', (file) => {
    const { text, doc, expectField } = load(file);
    expect(text).toMatch(/^# invalid: .{10,}$/m);
    expect(expectField).toMatch(/^spec/);
    expect(doc.metadata.name).toBe(file.replace(/\.yaml$/, ''));
  });

  const offline = invalid.filter((f) => !load(f).checkedOnlyByServer && load(f).doc.spec !== undefined);
  it.each(offline)('%s fails the schema at the field it names', (file) => {
    const { doc, expectField } = load(file);
    const spec = Value.Default(PerformanceProfileSpec, structuredClone(doc.spec));
    // A missing required field is reported on its parent, naming the field in params.
    const paths = [...Value.Errors(PerformanceProfileSpec, spec)].flatMap((e) => {
      const missing = (e.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      return e.keyword === 'required' ? missing.map((name) => `${e.instancePath}/${name}`) : [e.instancePath];
    });
    const wanted = pointerOf(expectField ?? '');
    expect(
      paths.some((p) => p === wanted || p.startsWith(`${wanted}/`)),
      `${paths}`,
    ).toBe(true);
  });
});
