import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { defaultValues } from './load-values.ts';
import { diffAgainstDisk, GENERATED_HEADER, renderStack, writeRendered } from './synth.ts';
import { runSynth } from './synth-run.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const quiet = () => {};

async function tempDir() {
  return mkdtemp(join(tmpdir(), 'perfpilot-synth-'));
}

describe('synth', () => {
  it('writes one file per component plus a kustomization listing them', () => {
    const files = renderStack(defaultValues());
    expect(files.map((f) => f.path)).toEqual([
      'crds/performanceprofiles.perfpilot.dev.yaml',
      'manifests/namespace.yaml',
      'manifests/redis-cluster.yaml',
      'manifests/risk-api.yaml',
      'manifests/risk-api-hpa.yaml',
      'manifests/operator.yaml',
      'manifests/performance-profile.yaml',
      'manifests/grafana-dashboard.yaml',
      'manifests/monitoring/monitoring.yaml',
      'manifests/kustomization.yaml',
      'manifests/monitoring/kustomization.yaml',
    ]);
    const kustomization = files.find((f) => f.path === 'manifests/kustomization.yaml')?.content ?? '';
    expect(kustomization).toContain(
      'kind: Kustomization\nnamespace: perfpilot\nresources:\n  - namespace.yaml\n',
    );
    // The Prometheus Operator objects are not in the stack's kustomization: it applies without their CRDs.
    expect(kustomization).not.toContain('monitoring');
    expect(files.find((f) => f.path === 'manifests/monitoring/kustomization.yaml')?.content).toContain(
      'resources:\n  - monitoring.yaml\n',
    );
    for (const f of files) expect(f.content.startsWith(GENERATED_HEADER), f.path).toBe(true);
  });

  it('lets the API reach its database on the port the values name (PgBouncer on 6432), and no other', () => {
    const values = defaultValues();
    const rendered = renderStack({ ...values, api: { ...values.api, databasePort: 6432 } });
    const api = rendered.find((f) => f.path === 'manifests/risk-api.yaml')?.content ?? '';
    expect(api).toContain('- ports:\n        - port: 6432\n          protocol: TCP');
    expect(api).not.toContain('port: 5432');
  });

  it('is deterministic', () => {
    expect(renderStack(defaultValues())).toEqual(renderStack(defaultValues()));
  });

  it('leaves the monitoring files out when monitoring is off, and removes stale ones', async () => {
    const dir = await tempDir();
    await writeRendered(dir, renderStack(defaultValues()));
    const off = renderStack({
      ...defaultValues(),
      monitoring: { ...defaultValues().monitoring, enabled: false },
    });
    expect(off.map((f) => f.path).filter((p) => p.includes('monitoring') || p.includes('grafana'))).toEqual(
      [],
    );
    expect((await writeRendered(dir, off)).sort()).toEqual([
      'manifests/grafana-dashboard.yaml',
      'manifests/monitoring/kustomization.yaml',
      'manifests/monitoring/monitoring.yaml',
    ]);
    expect(await readdir(join(dir, 'manifests/monitoring'))).toEqual([]);
    await rm(dir, { recursive: true });
  });

  it('--check finds changed, missing and extra files, and nothing once in sync', async () => {
    const dir = await tempDir();
    const rendered = renderStack(defaultValues());
    await writeRendered(dir, rendered);
    expect(await diffAgainstDisk(dir, rendered)).toEqual([]);
    await writeFile(join(dir, 'manifests/risk-api-hpa.yaml'), `${GENERATED_HEADER}# edited by hand\n`);
    await rm(join(dir, 'manifests/namespace.yaml'));
    await writeFile(join(dir, 'manifests/old.yaml'), `${GENERATED_HEADER}kind: Old\n`);
    await writeFile(join(dir, 'manifests/mine.yaml'), 'kind: NotGenerated\n');
    const drift = await diffAgainstDisk(dir, rendered);
    expect(drift.map((d) => [d.kind, d.path])).toEqual([
      ['missing', 'manifests/namespace.yaml'],
      ['extra', 'manifests/old.yaml'],
      ['changed', 'manifests/risk-api-hpa.yaml'],
    ]);
    expect(drift.find((d) => d.kind === 'changed')?.detail).toContain('committed: # edited by hand');
    await rm(dir, { recursive: true });
  });

  it('writes nothing and exits 2 on invalid values, naming each bad field', async () => {
    const dir = await tempDir();
    const values = join(dir, 'values.yaml');
    await writeFile(values, 'redis:\n  maxmemoryMiB: 4096\nhpa:\n  maxReplicas: 1\n');
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      expect(await runSynth({ values, out: dir }, quiet)).toBe(2);
    } finally {
      console.error = original;
    }
    expect(errors.join('\n')).toContain('hpa.maxReplicas: 1 is invalid; allowed: an integer from 2 to 1000');
    expect(errors.join('\n')).toContain('nothing was written');
    expect(await readdir(dir)).toEqual(['values.yaml']);
    await rm(dir, { recursive: true });
  });

  it('--print-values prints commented values and writes nothing', async () => {
    const dir = await tempDir();
    const chunks: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => chunks.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      expect(await runSynth({ out: dir, printValues: true }, quiet)).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(chunks.join('')).toContain('# DB_POOL_SIZE: base connections per pod (seed: 20).');
    expect(await readdir(dir)).toEqual([]);
    await rm(dir, { recursive: true });
  });

  it('the committed crds/ and manifests/ are exactly the synth output', async () => {
    expect(await diffAgainstDisk(root, renderStack(defaultValues()))).toEqual([]);
  });

  it('perfpilot synth --check exits 1 and lists what differs, through the real command', async () => {
    const dir = await tempDir();
    await run(process.execPath, [join(root, 'bin/perfpilot.js'), 'synth', '--out', dir]);
    await writeFile(join(dir, 'manifests/operator.yaml'), `${GENERATED_HEADER}stale\n`);
    const failed = await run(process.execPath, [
      join(root, 'bin/perfpilot.js'),
      'synth',
      '--check',
      '--out',
      dir,
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain('changed manifests/operator.yaml');
    expect(await readFile(join(dir, 'manifests/operator.yaml'), 'utf8')).toBe(`${GENERATED_HEADER}stale\n`);
    await rm(dir, { recursive: true });
  });

  it('perfpilot synth --help explains the options', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'bin/perfpilot.js'), 'synth', '--help']);
    expect(stdout).toContain('Usage: perfpilot synth [options]');
    expect(stdout).toContain('--values <file>');
    expect(stdout).toContain('--check');
  });
});
