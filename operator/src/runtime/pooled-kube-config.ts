/**
 * Connection reuse for @kubernetes/client-node's generated API clients. In client-node 2.0,
 * `KubeConfig.applySecurityAuthentication` builds a new undici Agent for every request, so no
 * connection is ever reused: each call pays a TLS handshake, and each abandoned Agent keeps its
 * socket until the keep-alive timeout. For an operator issuing thousands of small requests that
 * costs latency, throughput and memory. PooledKubeConfig keeps one Agent per TLS identity.
 */
import { createHash } from 'node:crypto';
import type { RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** PooledKubeConfig is a KubeConfig whose API clients share one connection pool per TLS identity. */
export class PooledKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    // applyToHTTPSOptions runs the kubeconfig's authenticators (tokens, exec plugins) and loads
    // the TLS material; keyed by that material, rotated client certificates get a new pool.
    const options: RequestOptions = {};
    await this.applyToHTTPSOptions(options);
    const key = createHash('sha256')
      .update(
        [
          this.getCurrentCluster()?.server ?? '',
          String(options.ca ?? ''),
          String(options.cert ?? ''),
          String(options.key ?? ''),
          String(options.rejectUnauthorized ?? ''),
          String(options.servername ?? ''),
        ].join('\0'),
      )
      .digest('hex');
    const dispatcher = this.#dispatchers.get(key);
    if (!dispatcher) {
      await super.applySecurityAuthentication(context);
      const created = context.getDispatcher();
      if (created) this.#dispatchers.set(key, created);
      return;
    }
    // What the base class does besides building an Agent: basic auth and the authenticators' headers.
    const user = this.getCurrentUser();
    if (user?.username) {
      context.setHeaderParam(
        'Authorization',
        `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`,
      );
    }
    for (const [name, value] of Object.entries(options.headers ?? {}))
      context.setHeaderParam(name, `${value}`);
    context.setDispatcher(dispatcher);
  }

  /** close ends the pooled connections. */
  async close(): Promise<void> {
    const dispatchers = [...this.#dispatchers.values()];
    this.#dispatchers.clear();
    await Promise.all(dispatchers.map((d) => d.close()));
  }
}

/** pooled returns a PooledKubeConfig with the same clusters, users and contexts as `kubeConfig`. */
export function pooled(kubeConfig: KubeConfig): PooledKubeConfig {
  if (kubeConfig instanceof PooledKubeConfig) return kubeConfig;
  const copy = new PooledKubeConfig();
  copy.loadFromOptions({
    clusters: kubeConfig.getClusters(),
    users: kubeConfig.getUsers(),
    contexts: kubeConfig.getContexts(),
    currentContext: kubeConfig.getCurrentContext(),
  });
  return copy;
}
