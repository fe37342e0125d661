/**
 * Profiles generated from the CRD's schema by fast-check (fixed seed, bounded), applied to a real
 * API server while `perfpilot operator` runs on their namespace: every profile broken in one
 * field is refused with that field named; every valid one the API server accepts gets a status for
 * its generation within two evaluations (the first comes at once: its targets do not exist, so it
 * says so); a valid one refused by a cross-field rule names the field the rule is on; and the
 * operator process never exits or restarts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiException, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../operator/src/api/v1alpha1/index.ts';
import { seededRandom } from '../../operator/src/sim/seeded-random.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { freePort, type ManagedProcess, RunDirectory, waitFor } from '../cluster/processes.ts';
import { arbitraryOf, type Crd, specSchemaOf } from './crd-compat-gate.ts';
import { installCrd } from './fixtures.ts';
import { breakOneField } from './fuzz-mutation.ts';

const root = join(import.meta.dirname, '../..');
const ns = 'fuzz';
/** The fixed seed: the same profiles on every run. */
const SEED = 4242;
const VALID = 60;
const BROKEN = 60;
/** Fewer stored draws than this would make the status check too thin to mean anything. */
const MIN_STORED = 8;
/** The wait for a status is two evaluations, capped so that one slow draw cannot hold the run. */
const MAX_STATUS_WAIT_MS = 60_000;

let cp: ControlPlane;
let dir: RunDirectory;
let operator: ManagedProcess;
let custom: CustomObjectsApi;
const crd = parse(readFileSync(join(root, 'crds/performanceprofiles.perfpilot.dev.yaml'), 'utf8')) as Crd;
const schema = specSchemaOf(crd);

beforeAll(async () => {
  cp = await startControlPlane();
  await installCrd(cp);
  await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
  custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  dir = new RunDirectory('perfpilot-fuzz-profiles');
  const [port, healthPort] = [await freePort(), await freePort()];
  operator = dir.start(
    'operator',
    process.execPath,
    [
      join(root, 'bin/perfpilot.js'),
      'operator',
      '--kubeconfig',
      cp.kubeconfigPath,
      '--watch-namespace',
      ns,
      '--metrics-port',
      String(port),
      '--health-port',
      String(healthPort),
      '--no-leader-elect',
      '--identity',
      'fuzz',
    ],
    { ...process.env, LOG_LEVEL: 'info' },
  );
  await waitFor(
    'the operator ready',
    async () =>
      (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.ok ? true : undefined,
    { timeoutMs: 60_000, process: operator },
  );
}, 180_000);

afterAll(async () => {
  await dir?.dispose();
  await cp?.stop();
});

/** create applies one profile and returns the API server's refusal, or undefined when it was stored. */
async function create(name: string, spec: unknown): Promise<string | undefined> {
  try {
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: ns,
      body: { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace: ns }, spec },
    });
    return undefined;
  } catch (err) {
    if (err instanceof ApiException && err.code === 422) return String(err.body);
    throw err;
  }
}

describe('profiles generated from the CRD schema', () => {
  const valid = fc.sample(arbitraryOf(schema), { seed: SEED, numRuns: VALID }) as Record<string, unknown>[];
  /** The valid draws the API server stored: the bases of the broken ones, so only the broken field is wrong. */
  const stored: { name: string; interval: number; spec: Record<string, unknown> }[] = [];

  it('gives every valid profile it stores a status within two evaluations; refusals name a field', async () => {
    const unnamed: string[] = [];
    for (const [i, spec] of valid.entries()) {
      const refusal = await create(`valid-${i}`, spec);
      // Only the CEL rules (min ≤ max, the connection budget) can refuse a draw; each names its field.
      if (refusal !== undefined && !/spec(\.[a-zA-Z]+)*:/.test(refusal)) unnamed.push(refusal.slice(0, 300));
      const interval = ((spec.policy as { evaluationIntervalSeconds?: number } | undefined)
        ?.evaluationIntervalSeconds ?? 60) as number;
      if (refusal === undefined) stored.push({ name: `valid-${i}`, interval, spec });
    }
    expect(unnamed).toEqual([]);
    expect(stored.length).toBeGreaterThanOrEqual(MIN_STORED);
    for (const { name, interval } of stored) {
      await waitFor(
        `${name}: a status for its generation`,
        async () => {
          const p = (await custom.getNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            namespace: ns,
            name,
          })) as {
            metadata: { generation: number };
            status?: { observedGeneration?: number; conditions?: unknown[] };
          };
          return p.status?.observedGeneration === p.metadata.generation &&
            (p.status.conditions?.length ?? 0) > 0
            ? true
            : undefined;
        },
        { timeoutMs: Math.min(2 * interval * 1000, MAX_STATUS_WAIT_MS), intervalMs: 250 },
      );
    }
    expect(operator.isRunning()).toBe(true);
    expect(readFileSync(operator.logPath, 'utf8')).not.toMatch(/uncaught|unhandled/i);
  }, 600_000);

  it('refuses every stored profile broken in one field, naming that field', async () => {
    expect(stored.length).toBeGreaterThanOrEqual(MIN_STORED);
    const random = seededRandom(SEED);
    const unnamed: string[] = [];
    const accepted: string[] = [];
    for (let i = 0; i < BROKEN; i++) {
      const base = stored[i % stored.length]?.spec as Record<string, unknown>;
      const broken = breakOneField(base, schema, random.uniform());
      const refusal = await create(`broken-${i}`, broken.spec);
      if (refusal === undefined) accepted.push(`${broken.field}: ${broken.how}`);
      else if (!refusal.includes(broken.field)) {
        unnamed.push(`${broken.field} (${broken.how}): ${refusal.slice(0, 300)}`);
      }
    }
    expect(accepted).toEqual([]);
    expect(unnamed).toEqual([]);
    expect(operator.isRunning()).toBe(true);
  }, 300_000);
});
