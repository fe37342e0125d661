/**
 * The parts of a cluster that act on stored objects, started beside the test API server the way
 * kwok's own kwokctl runs a cluster without a kubelet: kube-controller-manager (Deployments get
 * ReplicaSets and Pods, the real HPA controller scales), kube-scheduler (Pods get a Node), and
 * kwok, which keeps one fake Node Ready and turns its scheduled Pods Running and Ready. No
 * container runs: Pods are objects, and every address they get is on loopback.
 */
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ControlPlaneBinaries } from './binaries.ts';
import { freePort, httpsOk, type ManagedProcess, type RunDirectory, waitFor } from './processes.ts';

/** The components' serving certificates are self-signed (their --cert-dir): not verified. */
const selfSigned = { rejectUnauthorized: false };

/** The controllers kube-controller-manager runs: only what tests need. */
export const controllerManagerControllers = [
  'deployment',
  'replicaset',
  'horizontalpodautoscaling',
  'garbagecollector',
  'serviceaccount',
  'namespace',
  // Admission taints every new Node not-ready; only the node lifecycle controller lifts that
  // taint once the Node is Ready, and without it no Pod is ever scheduled.
  'nodelifecycle',
] as const;

/**
 * podCidr is where kwok takes Pod IPs from: inside 127.0.0.0/8, so a Pod IP can never make
 * anything connect or scrape off this machine.
 */
export const podCidr = '127.64.0.0/16';

/** fakeNodeCapacity is the kwok Node's capacity and allocatable: kwok's defaults plus ephemeral storage. */
export const fakeNodeCapacity: Readonly<Record<string, string>> = {
  cpu: '1k',
  memory: '1Ti',
  pods: '1M',
  'ephemeral-storage': '1Ti',
};

/** Options of the controllers. */
export interface ControllersOptions {
  /**
   * hpaSyncPeriodSeconds is how often the HPA controller evaluates every HPA (upstream: 15 s).
   * @default 2
   */
  readonly hpaSyncPeriodSeconds?: number;
  /** controllerManagerArgs are extra kube-controller-manager flags. @default [] */
  readonly controllerManagerArgs?: readonly string[];
}

/** What startControllers started. */
export interface Controllers {
  /** nodeName is the fake Node that kwok manages (distinct per control plane). */
  readonly nodeName: string;
  readonly processes: readonly ManagedProcess[];
}

/** startControllers starts the controller manager, the scheduler and kwok with one fake Node. */
export async function startControllers(params: {
  readonly dir: RunDirectory;
  readonly bin: ControlPlaneBinaries;
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  readonly apiPort: number;
  readonly timeoutMs: number;
  readonly options: ControllersOptions;
}): Promise<Controllers> {
  const { dir, bin, kubeconfigPath, timeoutMs } = params;
  const hpaSync = params.options.hpaSyncPeriodSeconds ?? 2;
  if (!Number.isFinite(hpaSync) || hpaSync < 1 || hpaSync > 300) {
    throw new RangeError(`hpaSyncPeriodSeconds must be from 1 to 300, got ${hpaSync}`);
  }
  // Both serve /healthz over TLS; neither may take its default port on all interfaces.
  const [kcmPort, schedulerPort] = [await freePort(), await freePort()];
  const delegated = [
    `--kubeconfig=${kubeconfigPath}`,
    `--authentication-kubeconfig=${kubeconfigPath}`,
    `--authorization-kubeconfig=${kubeconfigPath}`,
    '--bind-address=127.0.0.1',
    '--leader-elect=false',
  ];
  const kcm = dir.start('kube-controller-manager', bin.kubeControllerManager, [
    ...delegated,
    `--secure-port=${kcmPort}`,
    `--cert-dir=${join(dir.path, 'kcm-certs')}`,
    `--controllers=${controllerManagerControllers.join(',')}`,
    `--horizontal-pod-autoscaler-sync-period=${hpaSync}s`,
    ...(params.options.controllerManagerArgs ?? []),
  ]);
  const scheduler = dir.start('kube-scheduler', bin.kubeScheduler, [
    ...delegated,
    `--secure-port=${schedulerPort}`,
    `--cert-dir=${join(dir.path, 'scheduler-certs')}`,
  ]);

  // The Node object is ours; kwok fills in its status (Ready, addresses) and heartbeat, and keeps
  // the capacity we give it: kwok's default has no ephemeral-storage, so Pods that request some
  // (the toolkit's do) would never be scheduled.
  const nodeName = `kwok-node-${params.apiPort}`;
  const created = await params.kubeConfig.makeApiClient(CoreV1Api).createNode({
    body: {
      metadata: {
        name: nodeName,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', type: 'kwok' },
      },
    },
  });
  // Without a resourceVersion the status write is unconditional: a controller that touched the
  // new Node in between (a CI run met HTTP 409 here) does not fail the start.
  await params.kubeConfig.makeApiClient(CoreV1Api).replaceNodeStatus({
    name: nodeName,
    body: {
      ...created,
      metadata: { ...created.metadata, resourceVersion: undefined },
      status: { capacity: fakeNodeCapacity, allocatable: fakeNodeCapacity },
    },
  });
  const kwok = dir.start('kwok', bin.kwok, [
    `--kubeconfig=${kubeconfigPath}`,
    `--config=${bin.kwokStages}`,
    `--manage-single-node=${nodeName}`,
    '--node-ip=127.0.0.1',
    `--cidr=${podCidr}`,
  ]);

  const core = params.kubeConfig.makeApiClient(CoreV1Api);
  await waitFor(
    `node ${nodeName} Ready (kwok)`,
    async () => {
      const node = await core.readNode({ name: nodeName });
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        ? true
        : undefined;
    },
    { timeoutMs, intervalMs: 200, process: kwok },
  );
  for (const [process, port] of [
    [kcm, kcmPort],
    [scheduler, schedulerPort],
  ] as const) {
    await waitFor(
      `${process.name} /healthz`,
      async () => ((await httpsOk(`https://127.0.0.1:${port}/healthz`, selfSigned)) ? true : undefined),
      { timeoutMs, intervalMs: 200, process },
    );
  }
  return { nodeName, processes: [kcm, scheduler, kwok] };
}
