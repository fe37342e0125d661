/**
 * The npm package as a GitOps repository uses it: `npm pack`, then `npm install ./perfpilot-0.1.0.tgz`
 * in an empty directory outside the repository (its dependencies come from the registry), then
 * `npx perfpilot synth --values values.yaml --out rendered/`, and a cdk8s app of one's own that
 * imports the constructs from `perfpilot/toolkit`, type-checked against the package's
 * declarations and run by Node 24.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };

let work: string;
let app: string;
/** env puts Node 24 (the one running this test) first, as `npx` in a project with Node 24 does. */
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };

async function inApp(command: string, args: readonly string[]) {
  return await run(command, args, { cwd: app, env, maxBuffer: 32 * 1024 * 1024 });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'perfpilot-npm-package-'));
  app = join(work, 'gitops');
  // prepack compiles the sources to JavaScript and declarations (dist/lib).
  await run('npm', ['pack', '--pack-destination', work], { cwd: root, env, maxBuffer: 32 * 1024 * 1024 });
  await run('mkdir', [app]);
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'gitops', private: true, type: 'module' }),
  );
  await inApp('npm', ['install', '--no-audit', '--no-fund', join(work, `perfpilot-${version}.tgz`)]);
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships compiled JavaScript and declarations, and no TypeScript source', async () => {
    const { stdout } = await run('tar', ['-tzf', join(work, `perfpilot-${version}.tgz`)]);
    const files = stdout.split('\n');
    expect(files).toContain('package/dist/lib/charts-ts/src/toolkit.js');
    expect(files).toContain('package/dist/lib/charts-ts/src/toolkit.d.ts');
    expect(files).toContain('package/bin/perfpilot.js');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('npx perfpilot synth --values values.yaml --out rendered/ works from an empty directory', async () => {
    await writeFile(join(app, 'values.yaml'), 'namespace: shop\noperator:\n  watchNamespaces: [shop]\n');
    const { stdout } = await inApp('npx', [
      'perfpilot',
      'synth',
      '--values',
      'values.yaml',
      '--out',
      'rendered/',
    ]);
    expect(stdout).toMatch(/synth: 11 files, \d+ objects in /);
    const operator = parseAllDocuments(
      await readFile(join(app, 'rendered/manifests/operator.yaml'), 'utf8'),
    ).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
    expect(operator.find((o) => o.kind === 'Deployment')?.metadata.namespace).toBe('shop');
    expect(await readdir(join(app, 'rendered/crds'))).toContain('performanceprofiles.perfpilot.dev.yaml');
  });

  it('a cdk8s app of one’s own imports the constructs with their types, and synthesizes them', async () => {
    await writeFile(
      join(app, 'app.ts'),
      [
        "import { App } from 'cdk8s';",
        "import { OperatorChart, resolveReleaseValues } from 'perfpilot/toolkit';",
        "const app = new App({ outdir: 'synth' });",
        "const chart = new OperatorChart(app, 'perfpilot', { namespace: 'platform', values: resolveReleaseValues({ watchNamespaces: ['shop'] }) });",
        'const name: string = chart.operator.name;',
        "console.log('operator ' + name);",
        'app.synth();',
        '',
      ].join('\n'),
    );
    const tsconfig = {
      compilerOptions: {
        target: 'es2024',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      include: ['app.ts'],
    };
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = join(root, 'node_modules/.bin/tsc');
    await inApp(tsc, ['-p', 'tsconfig.json']);
    const { stdout } = await inApp(process.execPath, ['app.ts']);
    expect(stdout).toBe('operator perfpilot-operator\n');
    const objects = parseAllDocuments(await readFile(join(app, 'synth/perfpilot.k8s.yaml'), 'utf8')).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } },
    );
    expect(
      objects
        .filter((o) => o.kind === 'Role')
        .map((o) => o.metadata.namespace)
        .sort(),
    ).toEqual(['platform', 'shop']);
    // The declarations are the constructs' own: a wrong prop type fails the user's type check.
    await writeFile(
      join(app, 'app.ts'),
      (await readFile(join(app, 'app.ts'), 'utf8')).replace("namespace: 'platform'", 'namespace: 1'),
    );
    await expect(inApp(tsc, ['-p', 'tsconfig.json'])).rejects.toMatchObject({
      stdout: expect.stringContaining("Type 'number' is not assignable to type 'string'"),
    });
  });
});
