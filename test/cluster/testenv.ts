/**
 * `npm run testenv -- up|down|status`: the test cluster (and optionally Redis, PostgreSQL) for
 * people: the API server with its controllers, the scheduler and kwok's fake Node; with
 * `--api-only` the API server and etcd alone; with `--no-control-plane` only the data stores.
 * `up` starts a background process that owns everything, writes .testenv/kubeconfig and prints
 * the `export KUBECONFIG=…` line; `down` stops it; `status` tells what runs.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { controlPlaneBinaries } from './binaries.ts';
import { type ControlPlane, startControlPlane } from './control-plane.ts';
import { type PostgresServer, startPostgres } from './postgres.ts';
import { isAlive } from './processes.ts';
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from './redis.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const stateDir = join(root, '.testenv');
const statePath = join(stateDir, 'state.json');
const kubeconfigPath = join(stateDir, 'kubeconfig');
const logPath = join(stateDir, 'testenv.log');

/** What a running `testenv serve` process has started, as written to .testenv/state.json. */
interface TestenvState {
  pid: number;
  ready: boolean;
  server?: string;
  kubeconfig?: string;
  /** nodeName is kwok's fake Node, when the controllers run. */
  nodeName?: string;
  redis?: { host: string; port: number; passwordFile: string };
  redisCluster?: { nodes: string[]; passwordFile: string };
  /** postgres.urlFile holds DATABASE_URL (with its password), mode 0600. */
  postgres?: { host: string; port: number; urlFile: string };
  error?: string;
}

function readState(): TestenvState | undefined {
  try {
    return JSON.parse(readFileSync(statePath, 'utf8')) as TestenvState;
  } catch {
    return undefined;
  }
}

interface UpOptions {
  apiOnly?: boolean;
  redis?: boolean;
  redisCluster?: boolean;
  postgres?: boolean;
  /** controlPlane is false with --no-control-plane: only the data stores start. */
  controlPlane: boolean;
  timeout: string;
}

async function up(options: UpOptions): Promise<number> {
  const state = readState();
  if (state && isAlive(state.pid)) {
    console.error(`testenv: already running (pid ${state.pid}); run \`npm run testenv -- down\` first`);
    return 1;
  }
  mkdirSync(stateDir, { recursive: true });
  rmSync(statePath, { force: true });
  const args = [fileURLToPath(import.meta.url), 'serve'];
  if (options.apiOnly) args.push('--api-only');
  if (options.redis) args.push('--redis');
  if (options.redisCluster) args.push('--redis-cluster');
  if (options.postgres) args.push('--postgres');
  if (!options.controlPlane) args.push('--no-control-plane');
  const log = openSync(logPath, 'w');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  console.error(
    `testenv: starting (pid ${child.pid}; log in ${logPath}; the first run builds kube-apiserver)`,
  );
  const deadline = Date.now() + Number(options.timeout) * 1000;
  for (;;) {
    const current = readState();
    if (current?.error) {
      console.error(`testenv: failed: ${current.error}`);
      return 1;
    }
    if (current?.ready) break;
    if (child.pid !== undefined && !isAlive(child.pid)) {
      console.error(`testenv: the background process exited; see ${logPath}`);
      return 1;
    }
    if (Date.now() > deadline) {
      console.error(`testenv: not ready after ${options.timeout} s; see ${logPath}`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const ready = readState();
  if (ready?.server) {
    console.error(`testenv: kube-apiserver ready at ${ready.server}`);
    if (ready.nodeName)
      console.error(
        `testenv: kube-controller-manager, kube-scheduler and kwok (fake Node ${ready.nodeName}) running`,
      );
    console.error(`testenv: kubectl from the same release: ${(await controlPlaneBinaries()).kubectl}`);
  }
  if (ready?.redis)
    console.error(
      `testenv: redis at ${ready.redis.host}:${ready.redis.port} (password in ${ready.redis.passwordFile})`,
    );
  if (ready?.redisCluster) console.error(`testenv: redis cluster at ${ready.redisCluster.nodes.join(' ')}`);
  if (ready?.postgres) {
    console.error(`testenv: postgres at ${ready.postgres.host}:${ready.postgres.port}`);
    console.log(`export DATABASE_URL=${readFileSync(ready.postgres.urlFile, 'utf8').trim()}`);
  }
  if (ready?.server) console.log(`export KUBECONFIG=${kubeconfigPath}`);
  return 0;
}

async function down(): Promise<number> {
  const state = readState();
  if (!state || !isAlive(state.pid)) {
    console.error('testenv: nothing running');
    rmSync(statePath, { force: true });
    return 0;
  }
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
  rmSync(statePath, { force: true });
  rmSync(kubeconfigPath, { force: true });
  rmSync(join(stateDir, 'database-url'), { force: true });
  console.error('testenv: stopped');
  return 0;
}

function status(): number {
  const state = readState();
  if (!state || !isAlive(state.pid)) {
    console.log('testenv: not running');
    return 3;
  }
  console.log(`testenv: ${state.ready ? 'running' : 'starting'} (pid ${state.pid})`);
  if (state.server) console.log(`  kube-apiserver  ${state.server}  (KUBECONFIG=${state.kubeconfig})`);
  if (state.nodeName)
    console.log(`  controllers     kube-controller-manager, kube-scheduler, kwok (node ${state.nodeName})`);
  if (state.redis) console.log(`  redis           ${state.redis.host}:${state.redis.port}`);
  if (state.redisCluster) console.log(`  redis cluster   ${state.redisCluster.nodes.join(' ')}`);
  if (state.postgres)
    console.log(
      `  postgres        ${state.postgres.host}:${state.postgres.port}  (DATABASE_URL in ${state.postgres.urlFile})`,
    );
  return 0;
}

/** serve runs in the background: starts everything, writes the state file, stops on SIGTERM. */
async function serve(options: {
  apiOnly?: boolean;
  redis?: boolean;
  redisCluster?: boolean;
  postgres?: boolean;
  controlPlane: boolean;
}): Promise<number> {
  const state: TestenvState = { pid: process.pid, ready: false };
  const save = () => writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`);
  save();
  let cp: ControlPlane | undefined;
  let redis: RedisServer | undefined;
  let cluster: RedisCluster | undefined;
  let postgres: PostgresServer | undefined;
  const stopAll = async () => {
    await Promise.allSettled([cp?.stop(), redis?.stop(), cluster?.stop(), postgres?.stop()]);
  };
  const stopped = new Promise<void>((resolveStop) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolveStop());
  });
  try {
    if (options.controlPlane) {
      cp = await startControlPlane({ controllers: !options.apiOnly });
      copyFileSync(cp.kubeconfigPath, kubeconfigPath);
      Object.assign(state, { server: cp.server, kubeconfig: kubeconfigPath, nodeName: cp.nodeName });
    }
    const passwordFile = join(stateDir, 'redis-password');
    if (options.redis || options.redisCluster) {
      if (!existsSync(passwordFile)) writeFileSync(passwordFile, `${crypto.randomUUID()}\n`, { mode: 0o600 });
    }
    const password = options.redis || options.redisCluster ? readFileSync(passwordFile, 'utf8').trim() : '';
    if (options.redis) {
      redis = await startRedis({ password });
      state.redis = { host: redis.host, port: redis.port, passwordFile };
    }
    if (options.redisCluster) {
      cluster = await startRedisCluster({ password });
      state.redisCluster = { nodes: cluster.nodes.map((n) => `${n.host}:${n.port}`), passwordFile };
    }
    if (options.postgres) {
      postgres = await startPostgres();
      const urlFile = join(stateDir, 'database-url');
      writeFileSync(urlFile, `${postgres.url}\n`, { mode: 0o600 });
      state.postgres = { host: postgres.host, port: postgres.port, urlFile };
    }
    state.ready = true;
    save();
    console.log(`testenv: ready${cp ? ` at ${cp.server}` : ''}`);
  } catch (err) {
    state.error = err instanceof Error ? err.message : String(err);
    save();
    await stopAll();
    return 1;
  }
  await stopped;
  console.log('testenv: stopping');
  await stopAll();
  return 0;
}

function buildProgram(): Command {
  const program = new Command('testenv')
    .description(
      'A real Kubernetes cluster without a kubelet (kube-apiserver, etcd, controllers, scheduler, kwok) and Redis on loopback, for people.',
    )
    .exitOverride();
  program
    .command('up')
    .description('start the cluster in the background and print the KUBECONFIG export line')
    .option('--api-only', 'only kube-apiserver and etcd: no controllers, scheduler or kwok')
    .option('--redis', 'also start a single password-protected redis-server')
    .option('--redis-cluster', 'also start a 6-node Redis Cluster (3 masters, 3 replicas)')
    .option('--postgres', 'also start PostgreSQL and print its DATABASE_URL export line')
    .option('--no-control-plane', 'start only the data stores asked for (no kube-apiserver)')
    .option('--timeout <seconds>', 'how long to wait for readiness', '900')
    .action(async (options: UpOptions) => {
      process.exitCode = await up(options);
    });
  program
    .command('down')
    .description('stop everything `up` started')
    .action(async () => {
      process.exitCode = await down();
    });
  program
    .command('status')
    .description('tell what is running (exit code 3 when nothing is)')
    .action(() => {
      process.exitCode = status();
    });
  program
    .command('serve', { hidden: true })
    .option('--api-only')
    .option('--redis')
    .option('--redis-cluster')
    .option('--postgres')
    .option('--no-control-plane')
    .action(
      async (options: {
        apiOnly?: boolean;
        redis?: boolean;
        redisCluster?: boolean;
        postgres?: boolean;
        controlPlane: boolean;
      }) => {
        process.exitCode = await serve(options);
      },
    );
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  process.exitCode = err.exitCode;
}
