/**
 * The image's file tree and runtime settings as the Dockerfile defines them, so that the
 * Docker-free build (scripts/build-image.sh) reproduces the Dockerfile rather than a second copy
 * of it: the build copies what the final stage's `COPY` lines copy (the build context filtered
 * by .dockerignore), takes ENV, WORKDIR, USER, EXPOSE, ENTRYPOINT and CMD from it, and then checks
 * its /app against the tree those lines produce.
 *
 *   node scripts/image-tree.ts copy-context DIR   copy the context's COPY sources into DIR (/app)
 *   node scripts/image-tree.ts config             print the image settings as JSON
 *   node scripts/image-tree.ts check DIR          compare DIR (/app of the built root) with the Dockerfile's tree
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** One instruction of the Dockerfile's final stage. */
interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** finalStage is the instructions after the Dockerfile's last FROM, line continuations joined. */
export function finalStage(dockerfile: string): Instruction[] {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n');
  const instructions = lines
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  return instructions.slice(lastFrom + 1);
}

/** ImageConfig is what the Dockerfile's final stage sets besides files. */
export interface ImageConfig {
  readonly env: Record<string, string>;
  readonly workdir: string;
  readonly user: string;
  readonly exposedPorts: string[];
  readonly entrypoint: string[];
  readonly cmd: string[];
}

/** imageConfig reads ENV, WORKDIR, USER, EXPOSE, ENTRYPOINT and CMD (exec form) of the final stage. */
export function imageConfig(dockerfile: string): ImageConfig {
  const config = { env: {} as Record<string, string>, workdir: '/', user: '', exposedPorts: [] as string[] };
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  for (const { keyword, args } of finalStage(dockerfile)) {
    if (keyword === 'ENV') {
      for (const pair of args.split(/\s+/)) {
        const [name, ...value] = pair.split('=');
        if (name) config.env[name] = value.join('=');
      }
    } else if (keyword === 'WORKDIR') config.workdir = args;
    else if (keyword === 'USER') config.user = args;
    else if (keyword === 'EXPOSE')
      config.exposedPorts.push(...args.split(/\s+/).map((p) => (p.includes('/') ? p : `${p}/tcp`)));
    else if (keyword === 'ENTRYPOINT') entrypoint = JSON.parse(args) as string[];
    else if (keyword === 'CMD') cmd = JSON.parse(args) as string[];
  }
  return { ...config, entrypoint, cmd };
}

/** A COPY of the final stage: from the build context, or from another stage. */
export interface Copy {
  readonly from?: string;
  readonly sources: readonly string[];
  readonly dest: string;
}

/** copies lists the final stage's COPY instructions, destinations resolved against WORKDIR. */
export function copies(dockerfile: string): Copy[] {
  let workdir = '/';
  const result: Copy[] = [];
  for (const { keyword, args } of finalStage(dockerfile)) {
    if (keyword === 'WORKDIR') workdir = args;
    if (keyword !== 'COPY') continue;
    const words = args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    const dest = paths.at(-1) ?? '.';
    result.push({
      ...(from ? { from } : {}),
      sources: paths.slice(0, -1),
      dest: dest.startsWith('/') ? dest : join(workdir, dest),
    });
  }
  return result;
}

/**
 * ignoredBy says whether .dockerignore leaves a context path out, as Docker reads it: a pattern
 * also covers what is under a matching directory, `!` lets a path back in, the last match wins.
 */
export function ignoredBy(patterns: readonly string[]): (path: string) => boolean {
  const matchers = patterns.map((line) => {
    const negated = line.startsWith('!');
    const pattern = negated ? line.slice(1) : line;
    const regex = pattern
      .split('**/')
      .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
      .join('(?:.*/)?');
    return { negated, regex: new RegExp(`^${regex}(?:/.*)?$`) };
  });
  return (path) => {
    let ignored = false;
    for (const { negated, regex } of matchers) if (regex.test(path)) ignored = !negated;
    return ignored;
  };
}

function dockerignore(): (path: string) => boolean {
  const file = join(root, '.dockerignore');
  const patterns = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
    : [];
  return ignoredBy(patterns);
}

/** filesUnder lists the files under dir (relative to base), recursively, sorted. */
function filesUnder(dir: string, base: string = dir): string[] {
  if (!existsSync(dir)) return [];
  if (statSync(dir).isFile()) return [relative(base, dir)];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(path, base) : [relative(base, path)];
    })
    .sort();
}

/**
 * contextFiles maps each file the context COPY lines put in the image (absolute image path) to
 * its source in the repository.
 */
export function contextFiles(dockerfile: string): Map<string, string> {
  const ignored = dockerignore();
  const files = new Map<string, string>();
  for (const copy of copies(dockerfile).filter((c) => !c.from)) {
    // Docker copies a directory's contents into dest, and a file into dest/ (or to dest itself).
    const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
    for (const source of copy.sources) {
      const sourcePath = join(root, source);
      if (statSync(sourcePath).isDirectory()) {
        for (const file of filesUnder(sourcePath)) {
          if (!ignored(join(source, file))) files.set(join(copy.dest, file), join(sourcePath, file));
        }
      } else if (!ignored(source)) {
        files.set(intoDir ? join(copy.dest, basename(source)) : copy.dest, sourcePath);
      }
    }
  }
  return files;
}

/** stageCopies are the COPY --from lines: what other build stages make (dependencies, the bundle). */
export function stageCopies(dockerfile: string): Copy[] {
  return copies(dockerfile).filter((c) => c.from);
}

/** productionPackages are the package directories `npm ci --omit=dev` installs, from the lock file. */
export function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; optional?: boolean; os?: string[]; cpu?: string[] }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev)
    .filter(([, p]) => !p.os || p.os.includes(process.platform))
    .filter(([, p]) => !p.cpu || p.cpu.includes(process.arch))
    .map(([path]) => path)
    .sort();
}

/** installedPackages are the package directories under an app's node_modules. */
function installedPackages(app: string): string[] {
  return filesUnder(join(app, 'node_modules'))
    .filter((f) => /(^|\/)package\.json$/.test(f))
    .map((f) => `node_modules/${dirname(f)}`)
    .filter((dir) => /^node_modules\/(@[^/]+\/)?[^/@]+(\/node_modules\/(@[^/]+\/)?[^/@]+)*$/.test(dir))
    .sort();
}

/** difference lists what `a` has and `b` lacks. */
function difference(a: readonly string[], b: readonly string[]): string[] {
  const set = new Set(b);
  return a.filter((x) => !set.has(x));
}

/**
 * checkTree compares an app directory (the built root's /app) with the Dockerfile's tree: every
 * context file, byte for byte; the production packages of the lock file; each single file copied
 * from a build stage. It returns the differences, empty when the trees are the same.
 */
export function checkTree(app: string, dockerfile: string): string[] {
  const problems: string[] = [];
  const workdir = imageConfig(dockerfile).workdir;
  const expected = new Map(
    [...contextFiles(dockerfile)].map(([image, source]) => [relative(workdir, image), source]),
  );
  const stageDirs = stageCopies(dockerfile).map((c) => relative(workdir, c.dest));
  const actual = filesUnder(app).filter((f) => !stageDirs.some((d) => f === d || f.startsWith(`${d}/`)));
  for (const file of difference([...expected.keys()], actual)) problems.push(`missing: /app/${file}`);
  for (const file of difference(actual, [...expected.keys()]))
    problems.push(`not in the Dockerfile's tree: /app/${file}`);
  for (const [file, source] of expected) {
    const built = join(app, file);
    if (existsSync(built) && !readFileSync(built).equals(readFileSync(source)))
      problems.push(`differs: /app/${file}`);
  }
  for (const dest of stageDirs) {
    if (dest === 'node_modules') {
      const installed = installedPackages(app);
      const wanted = productionPackages();
      for (const p of difference(wanted, installed)) problems.push(`missing package: /app/${p}`);
      for (const p of difference(installed, wanted))
        problems.push(`package not in the lock's production set: /app/${p}`);
    } else if (!existsSync(join(app, dest))) problems.push(`missing: /app/${dest}`);
  }
  return problems;
}

function main(argv: readonly string[]): number {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const [command, dir] = argv;
  if (command === 'config') {
    console.log(JSON.stringify(imageConfig(dockerfile)));
    return 0;
  }
  if (command === 'copy-context' && dir) {
    const workdir = imageConfig(dockerfile).workdir;
    for (const [image, source] of contextFiles(dockerfile)) {
      const target = join(dir, relative(workdir, image));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(source, target);
    }
    return 0;
  }
  if (command === 'check' && dir) {
    const problems = checkTree(dir, dockerfile);
    for (const p of problems) console.error(`image-tree: ${p}`);
    if (problems.length === 0) console.log(`image-tree: ${dir} is the Dockerfile's /app`);
    return problems.length === 0 ? 0 : 1;
  }
  console.error('usage: node scripts/image-tree.ts config | copy-context DIR | check DIR');
  return 2;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
