import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from './perfpilot.ts';

const scenarioYaml = `name: tiny
durationMinutes: 30
load:
  points:
    - { minute: 0, rps: 400 }
    - { minute: 30, rps: 1200 }
`;

let out: string[];
let err: string[];
const originalOut = process.stdout.write.bind(process.stdout);
const originalErr = process.stderr.write.bind(process.stderr);
const originalLog = console.log;
const originalError = console.error;

beforeEach(() => {
  out = [];
  err = [];
  console.log = (...args: unknown[]) => out.push(args.join(' '));
  console.error = (...args: unknown[]) => err.push(args.join(' '));
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
});

afterEach(() => {
  console.log = originalLog;
  console.error = originalError;
  process.stdout.write = originalOut;
  process.stderr.write = originalErr;
});

/** Temporary directories made by these tests, removed when they end. */
const tempDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

async function scenarioFile(text = scenarioYaml): Promise<string> {
  const dir = await tempDir('perfpilot-sim-');
  const file = join(dir, 'scenario.yaml');
  await writeFile(file, text);
  return file;
}

describe('perfpilot simulate', () => {
  it('prints a table row per policy', async () => {
    const file = await scenarioFile();
    expect(await main(['node', 'perfpilot', 'simulate', '--scenario', file, '--policy', 'seed-static'])).toBe(
      0,
    );
    const table = out.join('\n');
    expect(table).toMatch(/SLO-viol min .* pod-h .* Redis GB-h .* DB conn-h/);
    expect(table).toMatch(/\| tiny +\| seed-static/);
  });

  it('prints JSON with totals and, for all policies, the goal verdict', async () => {
    const file = await scenarioFile();
    expect(await main(['node', 'perfpilot', 'simulate', '--scenario', file, '--json'])).toBe(0);
    const result = JSON.parse(out.join('\n'));
    expect(result.policies.map((p: { policy: string }) => p.policy)).toEqual([
      'ours',
      'seed-static',
      'seed-rules',
      'best-static',
    ]);
    expect(result.policies[0].totals).toHaveProperty('sloViolationMinutes');
    expect(typeof result.goal.met).toBe('boolean');
  });

  it('writes SVG charts and a summary with --report', async () => {
    const file = await scenarioFile();
    const dir = await tempDir('perfpilot-report-');
    expect(
      await main(['node', 'perfpilot', 'simulate', '--scenario', file, '--policy', 'ours', '--report', dir]),
    ).toBe(0);
    const files = (await readdir(dir)).sort();
    expect(files).toEqual([
      'hit-rate.svg',
      'load.svg',
      'maxmemory.svg',
      'p95.svg',
      'pool-size.svg',
      'replicas.svg',
      'summary.md',
    ]);
    expect(await readFile(join(dir, 'load.svg'), 'utf8')).toMatch(/^<svg/);
    expect(await readFile(join(dir, 'summary.md'), 'utf8')).toMatch(/# Simulation: tiny/);
  });

  it.each<[string, string, RegExp]>([
    [
      'a field out of range',
      scenarioYaml.replace('rps: 400', 'rps: -4'),
      /load.points\[0\].rps must be a number in \[0, 10000000\], got -4/,
    ],
    ['a file that is not YAML', 'name: [unclosed', /is not valid YAML or JSON/],
    ['a missing load', 'name: x\ndurationMinutes: 5\n', /load is required/],
  ])('exits non-zero on %s, naming the problem', async (_name, text, message) => {
    const file = await scenarioFile(text);
    expect(await main(['node', 'perfpilot', 'simulate', '--scenario', file])).not.toBe(0);
    expect(err.join('')).toMatch(message);
  });

  it('rejects an unknown policy, listing the allowed ones', async () => {
    const file = await scenarioFile();
    expect(await main(['node', 'perfpilot', 'simulate', '--scenario', file, '--policy', 'magic'])).not.toBe(
      0,
    );
    expect(err.join('')).toMatch(/must be one of ours, seed-static, seed-rules, best-static, all/);
  });

  const noisyYaml = `${scenarioYaml}seed: 7\n`.replace('load:\n', 'load:\n  noise: 0.05\n');

  it('runs a noisy scenario on --seeds seeds from its own, medians in the totals and each run beside them', async () => {
    const file = await scenarioFile(noisyYaml);
    const args = ['node', 'perfpilot', 'simulate', '--scenario', file, '--policy', 'seed-static'];
    expect(await main([...args, '--seeds', '3', '--json'])).toBe(0);
    const result = JSON.parse(out.join('\n'));
    expect(result.seeds).toEqual([7, 8, 9]);
    const [policy] = result.policies;
    const costs = policy.runs.map((r: { totals: { pricedCost: number } }) => r.totals.pricedCost);
    expect(policy.runs.map((r: { seed: number }) => r.seed)).toEqual([7, 8, 9]);
    expect(new Set(costs).size).toBe(3);
    expect(policy.totals.pricedCost).toBe([...costs].sort((a, b) => a - b)[1]);
    out = [];
    expect(await main([...args, '--seeds', '2'])).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/Medians over 2 seeds\. Per seed:/);
    expect(text).toMatch(/\| seed-static \| 7–8 +\| +[012] of 2 \|/);
    expect(err.join('\n')).toMatch(/simulated seed-static on seed 8 \(2 of 2\)/);
  });

  it('runs a scenario without noise once, whatever --seeds says', async () => {
    const file = await scenarioFile();
    expect(
      await main([
        'node',
        'perfpilot',
        'simulate',
        '--scenario',
        file,
        '--policy',
        'ours',
        '--seeds',
        '5',
        '--json',
      ]),
    ).toBe(0);
    const result = JSON.parse(out.join('\n'));
    expect(result.seeds).toEqual([1]);
    expect(result.policies[0].runs).toHaveLength(1);
  });

  it.each([['0'], ['101'], ['1.5'], ['many']])('rejects --seeds %s, naming the bounds', async (value) => {
    const file = await scenarioFile();
    expect(await main(['node', 'perfpilot', 'simulate', '--scenario', file, '--seeds', value])).not.toBe(0);
    expect(err.join('')).toMatch(/--seeds <n>' argument '.*' is invalid\. must be an integer from 1 to 100/);
  });

  it('explains itself in --help', async () => {
    expect(await main(['node', 'perfpilot', 'simulate', '--help'])).toBe(0);
    expect(out.join('')).toMatch(/DynamicConnectionPool/);
  });
});
