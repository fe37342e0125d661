/**
 * The CRD compatibility gate: what a user feels when a new PerformanceProfile CRD replaces the
 * released one, checked on a real API server. Profiles written under the released CRD (its
 * samples, and profiles generated from its schema) are stored; the new CRD is applied; then
 * every stored profile must still read, keep every field and value it had (pruning loses data
 * without a word), pass a no-op update, and its manifest, applied afresh as GitOps re-applies it
 * in a new cluster, must still be accepted.
 *
 * The last check is the one that catches a tightened bound or a new rule: since Kubernetes 1.30
 * validation ratcheting lets an update through when the fields that now fail were not changed,
 * so a stored profile never shows it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiException, CustomObjectsApi } from '@kubernetes/client-node';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { GROUP, PLURAL, VERSION } from '../../operator/src/api/v1alpha1/index.ts';
import type { ControlPlane } from '../cluster/control-plane.ts';

/** The parts of an OpenAPI v3 schema a structural CRD schema uses (x-kubernetes-validations aside). */
export interface Schema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly default?: unknown;
}

/** A CustomResourceDefinition as read from YAML, with the parts the gate touches typed. */
export interface Crd {
  metadata: { name: string };
  spec: { versions: { name: string; schema: { openAPIV3Schema: Schema & { description?: string } } }[] };
}

/** specSchemaOf is the schema of `.spec` of the CRD's one version. */
export function specSchemaOf(crd: Crd): Schema {
  const spec = crd.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec;
  if (!spec) throw new Error(`${crd.metadata.name}: no spec schema`);
  return spec;
}

/** GENERATED_STRING_MAX keeps generated free text short; the bounds still come from the schema. */
const GENERATED_STRING_MAX = 40;

/**
 * arbitraryOf builds a fast-check arbitrary of values valid for `schema` (CEL rules aside: the
 * API server is the judge of those). The cross-field rules (min ≤ max, the connection budget)
 * refuse most values drawn at random, so the draws lean to what a user writes: an object is
 * often left to its defaults, and a number is often its default, else any value in its bounds.
 */
export function arbitraryOf(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const orDefault = (anyValue: fc.Arbitrary<unknown>) =>
    schema.default === undefined
      ? anyValue
      : fc.oneof({ arbitrary: fc.constant(schema.default), weight: 2 }, { arbitrary: anyValue, weight: 1 });
  switch (schema.type) {
    case 'object': {
      const properties = schema.properties ?? {};
      const required = Object.keys(properties).filter((k) => schema.required?.includes(k));
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, property] of Object.entries(properties)) record[key] = arbitraryOf(property);
      const onlyRequired: Record<string, fc.Arbitrary<unknown>> = {};
      for (const key of required) onlyRequired[key] = record[key] as fc.Arbitrary<unknown>;
      return fc.oneof(
        { arbitrary: fc.record(onlyRequired), weight: 1 },
        { arbitrary: fc.record(record, { requiredKeys: required }), weight: 2 },
      );
    }
    case 'array':
      return fc.array(arbitraryOf(schema.items ?? {}), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, 3),
      });
    case 'integer': {
      const min = schema.minimum ?? 0;
      return orDefault(fc.integer({ min, max: schema.maximum ?? min + 1000 }));
    }
    case 'number': {
      const min = schema.minimum ?? 0;
      return orDefault(
        fc.double({ min, max: schema.maximum ?? min + 1000, noNaN: true, noDefaultInfinity: true }),
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'string': {
      const minLength = schema.minLength ?? 0;
      const maxLength = Math.min(schema.maxLength ?? GENERATED_STRING_MAX, GENERATED_STRING_MAX);
      const text = schema.pattern
        ? fc.stringMatching(new RegExp(schema.pattern))
        : fc.string({ minLength, maxLength });
      return text.filter(
        (s) => s.length >= minLength && s.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY),
      );
    }
    default:
      throw new Error(`arbitraryOf: no generator for schema type ${JSON.stringify(schema.type)}`);
  }
}

/** generatedSpecs samples `count` specs from the released schema with a fixed seed: the same every run. */
export function generatedSpecs(crd: Crd, count: number, seed: number): Record<string, unknown>[] {
  return fc.sample(arbitraryOf(specSchemaOf(crd)), { seed, numRuns: count }) as Record<string, unknown>[];
}

/**
 * lostFields lists where `after` lacks or changes what `before` holds: every leaf of `before`
 * must be in `after` with the same value (new fields in `after`, such as new defaults, are fine).
 */
export function lostFields(before: unknown, after: unknown, path = 'spec'): string[] {
  if (before !== null && typeof before === 'object' && !Array.isArray(before)) {
    if (after === null || typeof after !== 'object' || Array.isArray(after)) return [`${path}: changed`];
    return Object.entries(before).flatMap(([key, value]) =>
      key in after
        ? lostFields(value, (after as Record<string, unknown>)[key], `${path}.${key}`)
        : [`${path}.${key}: pruned`],
    );
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [`${path}: changed`];
}

/** A profile as the user wrote it: name and spec. */
export interface UserProfile {
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

/** StoredProfile is a profile the released CRD accepted, as the API server returned it. */
interface StoredProfile extends UserProfile {
  readonly stored: { spec: Record<string, unknown> };
}

/** GateReport says what a CRD update did to the profiles stored before it. */
export interface GateReport {
  /** stored is how many profiles the released CRD accepted. */
  readonly stored: number;
  /** rejectedByReleased names the generated candidates the released CRD refused (its CEL rules). */
  readonly rejectedByReleased: number;
  /** problems lists every break, `<profile>: <what>`; empty when the update is compatible. */
  readonly problems: readonly string[];
}

/** CompatGate runs the gate on one control plane, one namespace per run. */
export class CompatGate {
  #runs = 0;
  readonly #cp: ControlPlane;
  readonly #custom: CustomObjectsApi;

  constructor(cp: ControlPlane) {
    this.#cp = cp;
    this.#custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /**
   * run installs `released`, stores `profiles` under it in a fresh namespace, applies
   * `candidate` and reports what broke.
   */
  async run(released: Crd, candidate: Crd, profiles: readonly UserProfile[]): Promise<GateReport> {
    const run = ++this.#runs;
    const namespace = `compat-${run}`;
    await this.#cp.kubectl(['create', 'namespace', namespace]);
    const installed = await this.applyCrd(released, `released-${run}`);
    if (installed) throw new Error(`the released CRD was not accepted: ${installed}`);

    const stored: StoredProfile[] = [];
    let rejectedByReleased = 0;
    await inBatches(profiles, async (profile) => {
      try {
        const created = (await this.#custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace,
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: 'PerformanceProfile',
            metadata: { name: profile.name },
            spec: profile.spec,
          },
        })) as { spec: Record<string, unknown> };
        stored.push({ ...profile, stored: created });
      } catch (err) {
        if (err instanceof ApiException && err.code === 422) rejectedByReleased++;
        else throw err;
      }
    });

    const updated = await this.applyCrd(candidate, `candidate-${run}`);
    if (updated)
      return {
        stored: stored.length,
        rejectedByReleased,
        problems: [`the CRD update was refused: ${updated}`],
      };

    const problems: string[] = [];
    await inBatches(stored, async (profile) => {
      problems.push(...(await this.#check(namespace, profile)).map((p) => `${profile.name}: ${p}`));
    });
    return { stored: stored.length, rejectedByReleased, problems: problems.sort() };
  }

  /** #check reads, compares, updates without change and re-creates (dry run) one stored profile. */
  async #check(namespace: string, profile: StoredProfile): Promise<string[]> {
    const base = { group: GROUP, version: VERSION, plural: PLURAL, namespace };
    let read: { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    try {
      read = (await this.#custom.getNamespacedCustomObject({ ...base, name: profile.name })) as typeof read;
    } catch (err) {
      return [`does not read: ${reason(err)}`];
    }
    const problems = lostFields(profile.stored.spec, read.spec);
    try {
      await this.#custom.replaceNamespacedCustomObject({ ...base, name: profile.name, body: read });
    } catch (err) {
      problems.push(`a no-op update is refused: ${reason(err)}`);
    }
    try {
      await this.#custom.createNamespacedCustomObject({
        ...base,
        dryRun: 'All',
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'PerformanceProfile',
          metadata: { name: `${profile.name}-again` },
          spec: profile.spec,
        },
      });
    } catch (err) {
      problems.push(`its manifest, applied afresh, is refused: ${reason(err)}`);
    }
    return problems;
  }

  /**
   * applyCrd server-side applies `crd` as kubectl would and waits until the API server serves
   * it; it returns kubectl's error, or undefined when the update was accepted. The served schema
   * is recognised by a marker added to its description (a description changes nothing else).
   */
  async applyCrd(crd: Crd, marker: string): Promise<string | undefined> {
    const marked = structuredClone(crd);
    const root = marked.spec.versions[0]?.schema.openAPIV3Schema;
    if (!root) throw new Error('the CRD has no schema');
    root.description = `${root.description ?? ''} [compat-gate ${marker}]`;
    const file = join(this.#cp.dir, `crd-${marker}.yaml`);
    writeFileSync(file, stringify(marked));
    try {
      await this.#cp.kubectl([
        'apply',
        '--server-side',
        '--force-conflicts',
        '--field-manager=perfpilot-test',
        '-f',
        file,
      ]);
    } catch (err) {
      return (err as { stderr?: string }).stderr?.trim() || String(err);
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      // 404 until the group is first served.
      const served = await this.#cp
        .kubectl(['get', '--raw', `/openapi/v3/apis/${GROUP}/${VERSION}`])
        .catch(() => ({ stdout: '' }));
      if (served.stdout.includes(`[compat-gate ${marker}]`)) return undefined;
      if (Date.now() > deadline)
        throw new Error(`the API server did not serve the CRD ${marker} within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** inBatches runs `work` on every item, 16 at a time (the API server's default in-flight limits are far higher). */
async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += 16) await Promise.all(items.slice(i, i + 16).map(work));
}

function reason(err: unknown): string {
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body);
    try {
      return `${err.code} ${(JSON.parse(body) as { message?: string }).message ?? body}`;
    } catch {
      return `${err.code} ${body}`;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
