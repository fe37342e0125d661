/**
 * A TCP proxy in front of kube-apiserver for the operator replicas of the soak: it forwards bytes
 * as they come, or holds each chunk for `delayMs` in both directions (a slow API server or a
 * congested network, TLS untouched). The observer reaches the API server directly.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** LatencyProxy forwards TCP to one port on 127.0.0.1 with an adjustable delay. */
export class LatencyProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** delayMs is added to every chunk either way; 0 forwards at once. */
  delayMs = 0;
  /** port is the proxy's port on 127.0.0.1, set by listen(). */
  port = 0;

  /** @param targetPort the API server's port on 127.0.0.1. */
  constructor(targetPort: number) {
    this.#server = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
      }
      const cut = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', cut);
      upstream.on('error', cut);
      client.on('close', cut);
      upstream.on('close', cut);
      this.#relay(client, upstream);
      this.#relay(upstream, client);
    });
  }

  /** listen binds a free port on 127.0.0.1. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  /** close cuts every connection and stops listening. */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #relay(from: Socket, to: Socket): void {
    // One queue per direction, drained in order: no chunk overtakes another when the delay changes.
    const queue: { release: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && (queue[0]?.release ?? 0) <= now) {
        const next = queue.shift();
        if (next && to.writable) to.write(next.chunk);
      }
      if (queue.length > 0) timer = setTimeout(drain, (queue[0]?.release ?? now) - now);
    };
    from.on('data', (chunk: Buffer) => {
      queue.push({ release: Date.now() + this.delayMs, chunk });
      if (timer === undefined) drain();
    });
    from.on('close', () => clearTimeout(timer));
  }
}
