/**
 * Runs the image built by scripts/build-image.sh from its unpacked root, as a container runtime
 * would run it here without one: `umoci unpack` gives the root and the runtime config (args, cwd,
 * env, user), and each process runs chrooted into that root as the image's user, with /proc and
 * /dev mounted in a mount namespace of its own. It shows `perfpilot --version`,
 * `perfpilot operator --help`, and the operator's container (the generated Deployment's command,
 * args and literal env, with the operator ServiceAccount's token) reaching Ready against a test
 * API server, its /metrics refusing an anonymous scrape.
 *
 *   node scripts/run-image.ts --image DIR/oci:TAG
 *
 * Needs root (unshare, mount, chroot). The image is not changed: it is unpacked afresh each run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, type V1Container, type V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startControlPlane } from '../test/cluster/control-plane.ts';
import { freePort, waitFor } from '../test/cluster/processes.ts';
import { installCrd } from '../test/integration/fixtures.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The parts of an OCI runtime config (umoci unpack's config.json) a run needs. */
interface RuntimeConfig {
  process: { args: string[]; cwd: string; env: string[]; user: { uid: number; gid: number } };
}

/** Unpacked is an image unpacked for running. */
interface Unpacked {
  readonly rootfs: string;
  readonly config: RuntimeConfig;
}

function unpack(image: string): Unpacked {
  const layout = image.slice(0, image.lastIndexOf(':'));
  const bundle = join(dirname(layout), 'run-bundle');
  rmSync(bundle, { recursive: true, force: true });
  const unpacked = spawnSync('umoci', ['unpack', '--image', image, bundle], { encoding: 'utf8' });
  if (unpacked.status !== 0) throw new Error(`umoci unpack ${image}: ${unpacked.stderr}`);
  const rootfs = join(bundle, 'rootfs');
  // Mount points a runtime creates.
  mkdirSync(join(rootfs, 'proc'), { recursive: true });
  return { rootfs, config: JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as RuntimeConfig };
}

/**
 * spawnInImage runs `args` in the image's root as its user, in its working directory, with its
 * environment plus `env`. The shell is the host's: it only mounts /proc and /dev before entering.
 */
function spawnInImage(image: Unpacked, args: readonly string[], env: Record<string, string> = {}) {
  const { cwd, user } = image.config.process;
  const imageEnv = Object.fromEntries(
    image.config.process.env.map((pair) => [
      pair.slice(0, pair.indexOf('=')),
      pair.slice(pair.indexOf('=') + 1),
    ]),
  );
  return spawn(
    '/usr/bin/unshare',
    [
      // A mount namespace only: unshare, the host's sh and the inner unshare each exec the next,
      // so the spawned process ends as the image's process and a signal reaches it directly.
      '--mount',
      '--propagation=private',
      '/bin/sh',
      '-c',
      'mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" && exec /usr/bin/unshare --root="$0" "$@"',
      image.rootfs,
      `--wd=${cwd}`,
      `--setuid=${user.uid}`,
      `--setgid=${user.gid}`,
      ...args,
    ],
    { env: { ...imageEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

async function runInImage(image: Unpacked, args: readonly string[]): Promise<string> {
  const child = spawnInImage(image, args);
  const exited = once(child, 'exit');
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const [code] = await exited;
  if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}: ${output}`);
  return output;
}

/** operatorContainer is the generated Deployment's operator container. */
function operatorContainer(): V1Container {
  const docs = parseAllDocuments(readFileSync(join(root, 'manifests/operator.yaml'), 'utf8')).map((d) =>
    d.toJS(),
  );
  const deployment = docs.find((d) => d?.kind === 'Deployment') as V1Deployment | undefined;
  const container = deployment?.spec?.template.spec?.containers.find((c) => c.name === 'operator');
  if (!container) throw new Error('manifests/operator.yaml has no operator container');
  return container;
}

/** anonymousScrape GETs /metrics over HTTPS without a token and returns the status. */
function anonymousScrape(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/metrics', rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { image: { type: 'string' } } });
  if (!values.image?.includes(':')) throw new Error('usage: node scripts/run-image.ts --image DIR/oci:TAG');
  const image = unpack(values.image);
  const entrypoint = image.config.process.args.slice(0, 2);
  console.log(`run-image: ${entrypoint.join(' ')} --version`);
  console.log(`  ${(await runInImage(image, [...entrypoint, '--version'])).trim()}`);
  console.log(`run-image: ${entrypoint.join(' ')} operator --help (first lines)`);
  const help = await runInImage(image, [...entrypoint, 'operator', '--help']);
  for (const line of help.split('\n').slice(0, 4)) console.log(`  ${line}`);

  const cp = await startControlPlane();
  const children: ReturnType<typeof spawnInImage>[] = [];
  try {
    await installCrd(cp);
    await cp.kubectl(['apply', '--server-side', '-f', join(root, 'manifests/namespace.yaml')]);
    await cp.kubectl(['apply', '--server-side', '-f', join(root, 'manifests/operator.yaml')]);
    const ns = 'perfpilot';
    const token = await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      namespace: ns,
      name: 'perfpilot-operator',
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    // The ServiceAccount's token and the cluster's CA inline: the root sees nothing of the host's files.
    const caFile = cp.kubeConfig.getCurrentCluster()?.caFile;
    if (!caFile) throw new Error('the test kubeconfig names no CA file');
    const asOperator = new KubeConfig();
    asOperator.loadFromClusterAndUser(
      {
        name: 'test',
        server: cp.server,
        caData: readFileSync(caFile).toString('base64'),
        skipTLSVerify: false,
      },
      { name: 'perfpilot-operator', token: token.status?.token ?? '' },
    );
    // The Deployment's /tmp is an emptyDir the operator's user owns.
    const kubeconfig = join(image.rootfs, 'tmp/kubeconfig');
    writeFileSync(kubeconfig, asOperator.exportConfig(), { mode: 0o600 });
    chownSync(kubeconfig, image.config.process.user.uid, image.config.process.user.gid);

    const container = operatorContainer();
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    const env = Object.fromEntries(
      (container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]),
    );
    const command = [...(container.command ?? []), ...(container.args ?? [])];
    console.log(
      `run-image: the operator's container: ${command.join(' ')} (the Deployment's command and env)`,
    );
    const started = performance.now();
    const operator = spawnInImage(image, command, {
      ...env,
      KUBECONFIG: '/tmp/kubeconfig',
      WATCH_NAMESPACE: ns,
      POD_NAMESPACE: ns,
      POD_NAME: 'perfpilot-operator-image',
      METRICS_PORT: String(metricsPort),
      HEALTH_PORT: String(healthPort),
    });
    children.push(operator);
    const exited = once(operator, 'exit');
    let log = '';
    operator.stdout.on('data', (c: Buffer) => {
      log += c.toString();
    });
    operator.stderr.on('data', (c: Buffer) => {
      log += c.toString();
    });
    await waitFor(
      'the operator Ready',
      async () => {
        if (operator.exitCode !== null) throw new Error(`the operator exited ${operator.exitCode}: ${log}`);
        const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    console.log(`  /readyz 200 after ${Math.round(performance.now() - started)} ms`);
    console.log(`  /metrics without a token: ${await anonymousScrape(metricsPort)}`);
    for (const line of log
      .split('\n')
      .filter((l) => /caches synced|serving \/metrics|became leader/.test(l))) {
      const { msg } = JSON.parse(line) as { msg: string };
      console.log(`  log: ${msg}`);
    }
    operator.kill('SIGTERM');
    const [code] = await exited;
    console.log(`  stopped on SIGTERM, exit code ${code}`);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await cp.stop();
  }
}

await main();
