/**
 * The controller-runtime peer of the operator benchmark (bench/peers/controller-runtime/, its own
 * Go module): built here with `go build`, once per version of its sources, into a cache directory
 * outside the repository, `${XDG_CACHE_HOME:-~/.cache}/perfpilot/bench-peer-<sources hash>/`, as
 * test/cluster/build.sh does for the control plane. The product, `.ci/run` and the tests never
 * build it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** PEER_SOURCES is the Go module of the peer. */
export const PEER_SOURCES = fileURLToPath(new URL('./controller-runtime/', import.meta.url));

/** goBinary is `go` on PATH, else the official toolchain's default place. */
function goBinary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/local/go/bin']) {
    const candidate = join(dir, 'go');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error(
    'bench: the controller-runtime peer needs a Go toolchain (go on PATH or /usr/local/go/bin/go): apt-get install -y golang-go',
  );
}

/** sourcesHash covers every file the binary is built from, so a change to any of them rebuilds it. */
function sourcesHash(): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(PEER_SOURCES).sort()) {
    if (!/\.go$|^go\.(mod|sum)$/.test(name)) continue;
    hash
      .update(`${name}\0`)
      .update(readFileSync(join(PEER_SOURCES, name)))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}

/**
 * buildControllerRuntimePeer returns the path of the peer's binary, building it first when the
 * cache has none for these sources (a few minutes on 2 cores with a cold Go build cache; the
 * packages it compiles are printed on stderr as they go).
 */
export async function buildControllerRuntimePeer(): Promise<string> {
  const cacheRoot = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const dir = join(cacheRoot, 'perfpilot', `bench-peer-${sourcesHash()}`);
  const binary = join(dir, 'controller-runtime-peer');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const go = goBinary();
  const partial = `${binary}.${process.pid}.partial`;
  const started = performance.now();
  console.error(
    `bench: building the controller-runtime peer from ${PEER_SOURCES} into ${dir} (first time only)`,
  );
  const child = spawn(go, ['build', '-v', '-trimpath', '-ldflags=-s -w', '-o', partial, '.'], {
    cwd: PEER_SOURCES,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false' },
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`bench: go build of the controller-runtime peer failed (exit ${code})`);
  renameSync(partial, binary);
  console.error(`bench: peer built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return binary;
}
