/**
 * The operator's two replicas behind the Lease, as its Deployment runs them: `perfpilot operator`
 * processes with leader election, reaching kube-apiserver through the soak's proxy. A replica that
 * exits (killed, or stepping down after losing its lease) is replaced after a short back-off by a
 * new one with a new name, as a Deployment starts a new Pod. operators.json in the run directory
 * lists the running ones, for the observer's RSS readings.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { freePort, type ManagedProcess, type RunDirectory, waitFor } from '../cluster/processes.ts';

const perfpilotBin = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'bin/perfpilot.js');

/** How long a Deployment's replacement Pod takes to start here, after a replica exits unasked. */
const REPLACE_AFTER_MS = 2000;

/** A running replica. */
export interface Replica {
  readonly identity: string;
  readonly pid: number;
  readonly process: ManagedProcess;
}

/** The replicas and what the faults and the report need of them. */
export interface OperatorReplicas {
  /** running lists the replicas alive now. */
  running(): Replica[];
  /** leader is the replica holding the Lease (read from the API server), waiting up to a minute for one. */
  leader(): Promise<Replica | undefined>;
  /** kill SIGKILLs a replica; its replacement starts only when replace() is called. */
  kill(identity: string): void;
  /** replace starts the replacement of a killed replica. */
  replace(identity: string): Promise<void>;
  /** exits counts replicas that exited without being killed by a fault (steps down, crashes). */
  exits(): { identity: string; code: number | string }[];
  stop(): Promise<void>;
}

/** Options of startReplicas. */
export interface ReplicaOptions {
  readonly dir: RunDirectory;
  /** kubeconfigPath points at the proxy; kubeConfig reaches the API server directly (for the Lease). */
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly count: number;
  /** operatorsFile is where the running replicas are listed for the observer. */
  readonly operatorsFile: string;
  readonly onLine: (line: string) => void;
}

/** startReplicas starts `count` replicas and waits until one holds the Lease. */
export async function startReplicas(options: ReplicaOptions): Promise<OperatorReplicas> {
  const replicas = new Map<string, Replica>();
  const killed = new Set<string>();
  const unasked: { identity: string; code: number | string }[] = [];
  let generation = 0;
  let stopping = false;
  const publish = () =>
    writeFileSync(
      options.operatorsFile,
      JSON.stringify([...replicas.values()].map((r) => ({ identity: r.identity, pid: r.pid }))),
    );
  const start = async (): Promise<Replica> => {
    generation++;
    const identity = `perfpilot-soak-${generation}`;
    // Each replica its own ports: they share one host here, where Pods would each have their own.
    const [port, healthPort] = [await freePort(), await freePort()];
    const child = options.dir.start(
      identity,
      process.execPath,
      [
        perfpilotBin,
        'operator',
        '--kubeconfig',
        options.kubeconfigPath,
        '--watch-namespace',
        options.namespace,
        '--lease-namespace',
        options.namespace,
        '--metrics-port',
        String(port),
        '--health-port',
        String(healthPort),
        '--identity',
        identity,
      ],
      { ...process.env, LOG_LEVEL: 'info' },
    );
    const replica = { identity, pid: child.pid, process: child };
    replicas.set(identity, replica);
    publish();
    void child.exited.then((code) => {
      replicas.delete(identity);
      publish();
      if (stopping || killed.has(identity)) return;
      unasked.push({ identity, code });
      options.onLine(`soak: replica ${identity} exited (${code}); its replacement starts`);
      setTimeout(() => void (stopping ? undefined : start()), REPLACE_AFTER_MS);
    });
    return replica;
  };
  const coordination = options.kubeConfig.makeApiClient(CoordinationV1Api);
  const holder = async (): Promise<Replica | undefined> => {
    const leases = await coordination.listNamespacedLease({ namespace: options.namespace });
    for (const lease of leases.items) {
      const r = replicas.get(lease.spec?.holderIdentity ?? '');
      if (r) return r;
    }
    return undefined;
  };
  for (let i = 0; i < options.count; i++) await start();
  await waitFor('a replica holding the Lease', async () => await holder().catch(() => undefined), {
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  return {
    running: () => [...replicas.values()],
    leader: async () =>
      await waitFor('a replica holding the Lease', async () => await holder().catch(() => undefined), {
        timeoutMs: 60_000,
        intervalMs: 250,
      }).catch(() => undefined),
    kill: (identity) => {
      const r = replicas.get(identity);
      if (!r) throw new Error(`no replica ${identity}`);
      killed.add(identity);
      process.kill(r.pid, 'SIGKILL');
    },
    replace: async () => {
      await start();
    },
    exits: () => [...unasked],
    stop: async () => {
      stopping = true;
      for (const r of [...replicas.values()]) await r.process.stop();
    },
  };
}
