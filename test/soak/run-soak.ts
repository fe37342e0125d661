/**
 * The soak from start to end: the demo's stack, two operator replicas behind the Lease (through a
 * proxy that can slow kube-apiserver down), the observer in its own process, a varying load, and
 * the seeded fault schedule; at the end the observer's report, with everything stopped.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { type DemoStack, startDemoStack } from '../../demo/src/demo-stack.ts';
import { DEMO_SEED_SYMBOLS } from '../../demo/src/demo-values.ts';
import { seededRandom } from '../../operator/src/sim/seeded-random.ts';
import { runLoadTest } from '../../risk-api/src/load-test.ts';
import { RunDirectory } from '../cluster/processes.ts';
import { drawSchedule, type ScheduledFault } from './fault-schedule.ts';
import { injectFault } from './faults.ts';
import { LatencyProxy } from './latency-proxy.ts';
import type { FaultRecord, LoadSlice } from './observer/invariants.ts';
import { type ObserverConfig, RUN_FILES } from './observer/observe.ts';
import type { SoakReport } from './observer/soak-report.ts';
import { startReplicas } from './operator-replicas.ts';

const observerMain = join(dirname(fileURLToPath(import.meta.url)), 'observer/observe.ts');

/** Seconds of load per slice: the observer places failures in time to within one slice. */
export const LOAD_SLICE_SECONDS = 5;
/** The load's offered rate swings between these (requests per second) over LOAD_PERIOD_SECONDS. */
export const LOAD_RATE = { low: 60, high: 160 } as const;
const LOAD_PERIOD_SECONDS = 120;
/** The operator's replicas, as its Deployment runs them. */
export const OPERATOR_REPLICAS = 2;

/** Options of runSoak. */
export interface SoakOptions {
  readonly durationSeconds: number;
  readonly seed: number;
  /** reportDir receives report.md, report.json, the observer's samples and the processes' logs. */
  readonly reportDir: string;
  /** onLine receives the progress lines. */
  readonly onLine: (line: string) => void;
}

/** The report, with what the runner adds: faults it could not inject, replicas that exited on their own. */
export interface SoakResult extends SoakReport {
  readonly notInjected: { readonly type: string; readonly error: string }[];
  readonly operatorExits: { readonly identity: string; readonly code: number | string }[];
  readonly faultList: FaultRecord[];
  /** startedAt is when load and faults began (ms), the zero of every `atSeconds`. */
  readonly startedAt: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** operatorKubeconfig writes the admin kubeconfig with its server replaced by the proxy's. */
function operatorKubeconfig(stack: DemoStack, proxyPort: number, path: string): void {
  const config = parse(readFileSync(stack.cp.kubeconfigPath, 'utf8')) as {
    clusters: { cluster: { server: string } }[];
  };
  for (const c of config.clusters) c.cluster.server = `https://127.0.0.1:${proxyPort}`;
  writeFileSync(path, stringify(config), { mode: 0o600 });
}

/** runSoak runs the soak and resolves with its report once everything has stopped. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const schedule = drawSchedule(options.seed, options.durationSeconds);
  const out = options.reportDir;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const say = options.onLine;
  say(
    `soak: seed ${options.seed}, ${options.durationSeconds} s, ${schedule.length} faults: ${schedule.map((f) => `${f.type}@${f.startSeconds}-${f.endSeconds}s`).join(', ')}`,
  );
  const stack = await startDemoStack({ onStep: (step) => say(`soak: starting ${step}`) });
  const dir = new RunDirectory('perfpilot-soak');
  const proxy = new LatencyProxy(Number(new URL(stack.cp.server).port));
  let replicas: Awaited<ReturnType<typeof startReplicas>> | undefined;
  try {
    // The demo's one operator runs without a Lease; the soak runs two replicas behind one.
    await stack.operator.stop();
    await proxy.listen();
    const kubeconfigPath = join(dir.path, 'operator.kubeconfig');
    operatorKubeconfig(stack, proxy.port, kubeconfigPath);
    say(`soak: starting ${OPERATOR_REPLICAS} operator replicas behind the Lease`);
    replicas = await startReplicas({
      dir,
      kubeconfigPath,
      kubeConfig: stack.cp.kubeConfig,
      namespace: stack.namespace,
      count: OPERATOR_REPLICAS,
      operatorsFile: join(out, RUN_FILES.operators),
      onLine: say,
    });
    const startedAt = Date.now();
    const observerConfig: ObserverConfig = {
      seed: options.seed,
      startedAt,
      kubeconfig: stack.cp.kubeconfigPath,
      namespace: stack.namespace,
      profile: stack.name,
      hpa: stack.name,
      tuningConfigMap: stack.tuningConfigMapName,
      redis: {
        host: '127.0.0.1',
        ports: stack.redis.nodes.map((n) => n.port),
        password: stack.redis.password,
      },
      postgresUrl: stack.postgres.url,
      runDir: out,
    };
    const configPath = join(dir.path, 'observer.json');
    writeFileSync(configPath, JSON.stringify(observerConfig), { mode: 0o600 });
    const observer = dir.start('observer', process.execPath, [observerMain, configPath]);
    say('soak: observer started; load and faults begin');

    const endAt = startedAt + options.durationSeconds * 1000;
    const random = seededRandom(options.seed + 1);
    const ctx = { stack, proxy, replicas, dir, random };
    const faults: FaultRecord[] = [];
    const notInjected: { type: string; error: string }[] = [];
    const active = new Set<string>();
    const runFault = async (f: ScheduledFault) => {
      await sleep(Math.max(0, startedAt + f.startSeconds * 1000 - Date.now()));
      const start = Date.now();
      active.add(f.type);
      say(`soak: ${Math.round((start - startedAt) / 1000)} s: ${f.type} begins`);
      try {
        const detail = await injectFault(f.type, (f.endSeconds - f.startSeconds) * 1000, ctx);
        faults.push({ type: f.type, start, end: Date.now(), detail });
        say(`soak: ${Math.round((Date.now() - startedAt) / 1000)} s: ${f.type} over: ${detail}`);
      } catch (err) {
        notInjected.push({ type: f.type, error: String(err) });
        say(`soak: ${f.type} could not be injected: ${String(err)}`);
      } finally {
        active.delete(f.type);
      }
    };
    const faultsDone = Promise.all(schedule.map(runFault));

    const loadPath = join(out, RUN_FILES.load);
    writeFileSync(loadPath, '');
    let slice = 0;
    let failed = 0;
    while (Date.now() < endAt) {
      const elapsed = (Date.now() - startedAt) / 1000;
      const swing = 0.5 + 0.5 * Math.sin((2 * Math.PI * elapsed) / LOAD_PERIOD_SECONDS);
      const rate = Math.round(LOAD_RATE.low + (LOAD_RATE.high - LOAD_RATE.low) * swing);
      const from = Date.now();
      const seconds = Math.max(1, Math.min(LOAD_SLICE_SECONDS, Math.round((endAt - from) / 1000)));
      const load = await runLoadTest({
        url: stack.apiUrl,
        phases: [{ durationSeconds: seconds, rate }],
        connections: 8,
        zipfExponent: 0.6,
        symbolCount: DEMO_SEED_SYMBOLS,
        seed: options.seed * 10_000 + slice,
        timeoutSeconds: 5,
      }).catch((err: unknown) => ({ requests: 0, errors: 1, error: String(err) }));
      const record: LoadSlice = { from, to: Date.now(), requests: load.requests, failed: load.errors };
      writeFileSync(loadPath, `${JSON.stringify(record)}\n`, { flag: 'a' });
      failed += load.errors;
      slice++;
      if (slice % 2 === 0) {
        const active_ = [...active].join(', ') || 'none';
        say(
          `soak: ${Math.round((Date.now() - startedAt) / 1000)}/${options.durationSeconds} s, ${rate} rps offered, faults now: ${active_}, failed requests so far: ${failed}`,
        );
      }
    }
    await faultsDone;
    writeFileSync(join(out, RUN_FILES.faults), JSON.stringify(faults, null, 2));
    say('soak: stopping the observer; it writes the report');
    await observer.stop(60_000);
    const report = JSON.parse(readFileSync(join(out, RUN_FILES.report), 'utf8')) as SoakReport;
    return { ...report, notInjected, operatorExits: replicas.exits(), faultList: faults, startedAt };
  } finally {
    await replicas?.stop();
    await proxy.close();
    const logs = join(out, 'logs');
    mkdirSync(logs, { recursive: true });
    for (const d of [dir.path, stack.dir]) {
      for (const f of readdirSync(d).filter((n) => n.endsWith('.log')))
        copyFileSync(join(d, f), join(logs, f));
    }
    await dir.dispose();
    await stack.stop();
  }
}
