/**
 * Where the Go-built control-plane binaries are: test/cluster/build.sh builds them once per
 * version into a cache outside the repository and prints that directory.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Paths of the binaries built from k8s.io/kubernetes, go.etcd.io/etcd, kwok and prometheus-adapter. */
export interface ControlPlaneBinaries {
  readonly dir: string;
  readonly kubeApiServer: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubectl: string;
  readonly etcd: string;
  readonly kwok: string;
  /** kwokStages is kwok's own node and pod stages (YAML), copied from its module. */
  readonly kwokStages: string;
  readonly prometheusAdapter: string;
}

let cached: Promise<ControlPlaneBinaries> | undefined;

/** controlPlaneBinaries builds the binaries when they are not cached yet (minutes, once). */
export function controlPlaneBinaries(): Promise<ControlPlaneBinaries> {
  cached ??= (async () => {
    const script = fileURLToPath(new URL('./build.sh', import.meta.url));
    const { stdout } = await run('bash', [script], { maxBuffer: 16 * 1024 * 1024 });
    const dir = stdout.trim().split('\n').at(-1) ?? '';
    return {
      dir,
      kubeApiServer: join(dir, 'kube-apiserver'),
      kubeControllerManager: join(dir, 'kube-controller-manager'),
      kubeScheduler: join(dir, 'kube-scheduler'),
      kubectl: join(dir, 'kubectl'),
      etcd: join(dir, 'etcd'),
      kwok: join(dir, 'kwok'),
      kwokStages: join(dir, 'kwok-stages.yaml'),
      prometheusAdapter: join(dir, 'prometheus-adapter'),
    };
  })();
  return cached;
}
