/**
 * A TCP proxy in front of the API server for tests: it can cut every connection and then refuse
 * new ones (a network partition with resets) or hold them open without forwarding a byte (a
 * black hole, as a dead load balancer behaves), while the test keeps its own direct connection.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** How the proxy treats connections: forward, refuse (reset), or hold without answering. */
export type ProxyMode = 'forward' | 'refuse' | 'blackhole';

/** PartitionableProxy forwards TCP to one port until told otherwise. */
export class PartitionableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #mode: ProxyMode = 'forward';
  /** port is the proxy's port on 127.0.0.1, set by listen(). */
  port = 0;

  /** @param targetPort the API server's port on 127.0.0.1. */
  constructor(targetPort: number) {
    this.#server = createServer((client) => {
      this.#track(client);
      if (this.#mode === 'refuse') {
        client.destroy();
        return;
      }
      if (this.#mode === 'blackhole') {
        client.resume();
        return;
      }
      const upstream = connect(targetPort, '127.0.0.1');
      this.#track(upstream);
      const cut = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', cut);
      upstream.on('error', cut);
      client.pipe(upstream).pipe(client);
    });
  }

  /** listen binds a free port on 127.0.0.1. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  /** partition cuts every open connection and treats new ones as `mode` says. */
  partition(mode: Exclude<ProxyMode, 'forward'> = 'refuse'): void {
    this.#mode = mode;
    for (const socket of this.#sockets) socket.destroy();
  }

  /** heal forwards new connections again. */
  heal(): void {
    this.#mode = 'forward';
  }

  /** close cuts everything and stops listening. */
  async close(): Promise<void> {
    this.partition();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => this.#sockets.delete(socket));
  }
}

/** kubeConfigVia is `base` with its current cluster's server replaced, e.g. by a proxy's URL. */
export function kubeConfigVia(base: KubeConfig, server: string): KubeConfig {
  const cluster = base.getCurrentCluster();
  if (!cluster) throw new Error('kubeConfigVia: the kubeconfig has no current cluster');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ ...cluster, server }],
    users: base.users,
    contexts: base.contexts,
    currentContext: base.currentContext,
  });
  return kubeConfig;
}
