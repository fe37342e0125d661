/**
 * The test cluster once built, side by side in one run: the API server and etcd alone, and with
 * the controllers (kube-controller-manager, kube-scheduler, kwok and its fake Node Ready). Time
 * from start to ready, time to restart the API server, and time to stop everything (medians of
 * several runs).
 */
import { startControlPlane } from '../test/cluster/control-plane.ts';
import { median } from './median.ts';

const runs = 5;

interface Timings {
  start: number[];
  restart: number[];
  stop: number[];
}

async function measure(controllers: boolean, into: Timings): Promise<void> {
  let t = performance.now();
  const cp = await startControlPlane({ controllers });
  into.start.push(performance.now() - t);
  t = performance.now();
  await cp.restart();
  into.restart.push(performance.now() - t);
  t = performance.now();
  await cp.stop();
  into.stop.push(performance.now() - t);
}

/** run prints one table of medians, API server only beside the whole cluster. */
export async function run(): Promise<void> {
  const apiOnly: Timings = { start: [], restart: [], stop: [] };
  const cluster: Timings = { start: [], restart: [], stop: [] };
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < runs; i++) {
    await measure(false, apiOnly);
    await measure(true, cluster);
  }
  const s = (v: number) => `${(v / 1000).toFixed(2)} s`;
  const range = (values: number[]) =>
    `${s(median(values))} (${s(Math.min(...values))}–${s(Math.max(...values))})`;
  console.log(`test cluster (binaries cached), median (min–max) of ${runs} runs each, interleaved\n`);
  console.log('| step | API server + etcd | with controllers and kwok | ratio |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, key] of [
    ['start to ready', 'start'],
    ['restart() of the API server', 'restart'],
    ['stop()', 'stop'],
  ] as const) {
    const ratio = median(cluster[key]) / median(apiOnly[key]);
    console.log(`| ${name} | ${range(apiOnly[key])} | ${range(cluster[key])} | ${ratio.toFixed(2)}× |`);
  }
}
