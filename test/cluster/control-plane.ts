/**
 * A real Kubernetes control plane for tests, benchmarks and demos: etcd (embedded, built from
 * go.etcd.io/etcd/server/v3) and kube-apiserver (built from k8s.io/kubernetes) on free loopback
 * ports, with TLS, an admin client certificate in system:masters, RBAC authorization, Pod
 * Security admission, service-account token signing and the aggregation layer. On request it
 * also runs the controllers (controllers.ts: kube-controller-manager, kube-scheduler, kwok with
 * one fake Node) and a real metrics API for the HPA (metrics-adapter.ts: prometheus-adapter).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { controlPlaneBinaries } from './binaries.ts';
import { frontProxyClientName, generatePki } from './certs.ts';
import { type ControllersOptions, startControllers } from './controllers.ts';
import { type MetricsAdapter, type MetricsAdapterOptions, startMetricsAdapter } from './metrics-adapter.ts';
import {
  freePort,
  type HeldPort,
  holdPort,
  httpsOk,
  isPortFree,
  type ManagedProcess,
  RunDirectory,
  waitFor,
} from './processes.ts';

const run = promisify(execFile);

/** Options of startControlPlane. */
export interface ControlPlaneOptions {
  /** startTimeoutMs bounds how long etcd and the API server may take to become ready. @default 60000 */
  readonly startTimeoutMs?: number;
  /** apiServerArgs are extra kube-apiserver flags, e.g. `--watch-cache=false`. @default [] */
  readonly apiServerArgs?: readonly string[];
  /**
   * controllers starts kube-controller-manager, kube-scheduler and kwok with one fake Node, so
   * Deployments get Pods that become Running and the HPA controller acts. `true` takes the
   * defaults of ControllersOptions.
   * @default false (an API server and etcd only)
   */
  readonly controllers?: boolean | ControllersOptions;
}

/** A running control plane. */
export interface ControlPlane {
  /** kubeconfigPath is a kubeconfig file for the admin user (system:masters). */
  readonly kubeconfigPath: string;
  /** kubeConfig is loaded from kubeconfigPath, ready for @kubernetes/client-node. */
  readonly kubeConfig: KubeConfig;
  /** server is the API server's URL, e.g. https://127.0.0.1:43211. */
  readonly server: string;
  /** nodeName is the fake Node kwok manages, when the controllers run. */
  readonly nodeName?: string;
  /** etcdUrl is etcd's client URL (its JSON gateway is on the same port). */
  readonly etcdUrl: string;
  /** dir is the run directory holding certificates, data and logs; removed by stop(). */
  readonly dir: string;
  /** kubectl runs the kubectl built from the same release against this control plane. */
  kubectl(args: readonly string[]): Promise<{ stdout: string; stderr: string }>;
  /** stopApiServer stops kube-apiserver; etcd and its data stay. */
  stopApiServer(): Promise<void>;
  /** startApiServer starts kube-apiserver again on the same port and waits for /readyz. */
  startApiServer(): Promise<void>;
  /** restart is stopApiServer then startApiServer: clients see their connections drop. */
  restart(): Promise<void>;
  /** compactEtcd compacts etcd's history up to its current revision, so older watches get 410 Gone. */
  compactEtcd(): Promise<number>;
  /**
   * startMetricsAdapter starts prometheus-adapter against a Prometheus and registers the metrics
   * API its rules serve (external metrics by default); it is stopped by stop().
   */
  startMetricsAdapter(options: MetricsAdapterOptions): Promise<MetricsAdapter>;
  /** stop ends every process and removes the run directory. */
  stop(): Promise<void>;
}

/** startControlPlane starts etcd and kube-apiserver and resolves once /readyz answers ok. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const bin = await controlPlaneBinaries();
  const dir = new RunDirectory('perfpilot-cp');
  let heldApiPort: HeldPort | undefined;
  try {
    const pki = await generatePki();
    const file = (name: string, content: string) => {
      const path = join(dir.path, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };
    const paths = {
      ca: file('ca.crt', pki.caCert),
      servingCert: file('apiserver.crt', pki.servingCert),
      servingKey: file('apiserver.key', pki.servingKey),
      saKey: file('sa.key', pki.serviceAccountKey),
      saPub: file('sa.pub', pki.serviceAccountPublicKey),
      frontProxyCa: file('front-proxy-ca.crt', pki.frontProxyCaCert),
      frontProxyClientCert: file('front-proxy-client.crt', pki.frontProxyClientCert),
      frontProxyClientKey: file('front-proxy-client.key', pki.frontProxyClientKey),
      aggregatedCert: file('metrics-adapter.crt', pki.aggregatedServingCert),
      aggregatedKey: file('metrics-adapter.key', pki.aggregatedServingKey),
    };
    // Held while etcd starts, until kube-apiserver binds it: a port only picked could meanwhile be
    // handed out as a connection's source port.
    heldApiPort = await holdPort();
    const apiPort = heldApiPort.port;
    const [etcdPort, etcdPeerPort] = await distinctFreePorts();
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = dir.start('etcd', bin.etcd, [
      `--data-dir=${join(dir.path, 'etcd-data')}`,
      `--listen-client-url=${etcdUrl}`,
      `--listen-peer-url=http://127.0.0.1:${etcdPeerPort}`,
      // Test data is thrown away, so durability buys nothing; envtest runs etcd the same way.
      '--unsafe-no-fsync',
    ]);
    await waitFor('etcd health', async () => ((await etcdHealthy(etcdUrl)) ? true : undefined), {
      timeoutMs,
      process: etcd,
    });

    const server = `https://127.0.0.1:${apiPort}`;
    const apiServerArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir.path, 'certs')}`,
      `--tls-cert-file=${paths.servingCert}`,
      `--tls-private-key-file=${paths.servingKey}`,
      `--client-ca-file=${paths.ca}`,
      '--authorization-mode=RBAC',
      // As in real clusters: Pod Security admission, not the global switch, decides on privileged pods.
      '--allow-privileged=true',
      '--enable-admission-plugins=PodSecurity,ServiceAccount,NamespaceLifecycle',
      `--service-account-key-file=${paths.saPub}`,
      `--service-account-signing-key-file=${paths.saKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--endpoint-reconciler-type=none',
      '--enable-priority-and-fairness=false',
      // The aggregation layer, for the metrics adapter: the API server proxies as front-proxy-client.
      `--requestheader-client-ca-file=${paths.frontProxyCa}`,
      `--requestheader-allowed-names=${frontProxyClientName}`,
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${paths.frontProxyClientCert}`,
      `--proxy-client-key-file=${paths.frontProxyClientKey}`,
      ...(options.apiServerArgs ?? []),
    ];
    const adminCert = file('admin.crt', pki.adminCert);
    const adminKey = file('admin.key', pki.adminKey);
    const tls = { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey };

    let apiServer: ManagedProcess | undefined;
    const startApiServer = async () => {
      if (!(await isPortFree(apiPort))) {
        await waitFor(
          `port ${apiPort} to be released`,
          async () => ((await isPortFree(apiPort)) ? true : undefined),
          {
            timeoutMs: 10_000,
          },
        );
      }
      apiServer = dir.start('kube-apiserver', bin.kubeApiServer, apiServerArgs);
      await waitFor(
        'kube-apiserver /readyz',
        async () => ((await httpsOk(`${server}/readyz`, tls)) ? true : undefined),
        {
          timeoutMs,
          intervalMs: 200,
          process: apiServer,
        },
      );
    };
    const stopApiServer = async () => {
      // A short grace: tests stop the API server to break clients, not to watch it drain.
      await apiServer?.stop(2000);
      apiServer = undefined;
    };
    await heldApiPort.release();
    await startApiServer();

    const kubeconfigPath = file('kubeconfig', kubeconfigYaml(server, paths.ca, adminCert, adminKey));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const controllers = options.controllers
      ? await startControllers({
          dir,
          bin,
          kubeconfigPath,
          kubeConfig,
          apiPort,
          timeoutMs,
          options: options.controllers === true ? {} : options.controllers,
        })
      : undefined;
    const apiClients: ManagedProcess[] = [...(controllers?.processes ?? [])];
    return {
      kubeconfigPath,
      kubeConfig,
      server,
      etcdUrl,
      nodeName: controllers?.nodeName,
      dir: dir.path,
      kubectl: async (args) => await run(bin.kubectl, [`--kubeconfig=${kubeconfigPath}`, ...args]),
      stopApiServer,
      startApiServer,
      restart: async () => {
        await stopApiServer();
        await startApiServer();
      },
      compactEtcd: async () => await compactEtcd(etcdUrl),
      startMetricsAdapter: async (adapterOptions) => {
        const adapter = await startMetricsAdapter({
          dir,
          bin,
          kubeconfigPath,
          kubeConfig,
          caCert: pki.caCert,
          servingCertPath: paths.aggregatedCert,
          servingKeyPath: paths.aggregatedKey,
          options: adapterOptions,
        });
        apiClients.push(adapter.process);
        return adapter;
      },
      stop: async () => {
        // The API server's clients go first: an API server drains their watches before it exits,
        // and one restarted after them would otherwise be stopped first and wait out its grace.
        for (const client of apiClients.reverse()) await client.stop();
        await dir.dispose();
      },
    };
  } catch (err) {
    await heldApiPort?.release();
    await dir.dispose();
    throw err;
  }
}

async function distinctFreePorts(): Promise<[number, number]> {
  const ports = new Set<number>();
  while (ports.size < 2) ports.add(await freePort());
  const [a = 0, b = 0] = ports;
  return [a, b];
}

function kubeconfigYaml(server: string, ca: string, cert: string, key: string): string {
  // Paths rather than inline data keep the file readable for people who use it with kubectl.
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: perfpilot-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${ca}`,
    'users:',
    '- name: perfpilot-admin',
    '  user:',
    `    client-certificate: ${cert}`,
    `    client-key: ${key}`,
    'contexts:',
    '- name: perfpilot-test',
    '  context:',
    '    cluster: perfpilot-test',
    '    user: perfpilot-admin',
    'current-context: perfpilot-test',
    '',
  ].join('\n');
}

async function etcdHealthy(etcdUrl: string): Promise<boolean> {
  const response = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(2000) });
  return response.ok && ((await response.json()) as { health?: string }).health === 'true';
}

/** compactEtcd uses etcd's JSON gateway: read the current revision, then compact to it. */
async function compactEtcd(etcdUrl: string): Promise<number> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`etcd ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as { header?: { revision?: string } };
  };
  // A range over one key returns the store's current revision in its header.
  const status = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') });
  const revision = Number(status.header?.revision);
  if (!Number.isFinite(revision) || revision <= 0) throw new Error('etcd returned no revision');
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
