/**
 * The test control plane once built: time from startControlPlane() to /readyz, time to restart
 * the API server, and time to stop everything (median of several runs).
 */
import { startControlPlane } from '../test/cluster/control-plane.ts';

const runs = 5;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** run prints one table of medians. */
export async function run(): Promise<void> {
  const start: number[] = [];
  const restart: number[] = [];
  const stop: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const cp = await startControlPlane();
    start.push(performance.now() - t);
    t = performance.now();
    await cp.restart();
    restart.push(performance.now() - t);
    t = performance.now();
    await cp.stop();
    stop.push(performance.now() - t);
  }
  const ms = (v: number) => `${(v / 1000).toFixed(2)} s`;
  console.log(`test control plane (kube-apiserver + etcd, binaries cached), median of ${runs} runs\n`);
  console.log('| step | median | min | max |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, values] of [
    ['start to /readyz', start],
    ['restart() of the API server', restart],
    ['stop()', stop],
  ] as const) {
    console.log(
      `| ${name} | ${ms(median(values))} | ${ms(Math.min(...values))} | ${ms(Math.max(...values))} |`,
    );
  }
}
