/**
 * Connection reuse for @kubernetes/client-node's generated API clients. In client-node 2.0,
 * `KubeConfig.applySecurityAuthentication` builds a new undici Agent for every request, so no
 * connection is ever reused: each call pays a TLS handshake, and each abandoned Agent keeps its
 * socket until the keep-alive timeout; and `applyToHTTPSOptions` reads the CA, certificate and key
 * files again for every request. For an operator issuing thousands of small requests that costs
 * latency, throughput and memory. PooledKubeConfig reads the TLS material once per
 * {@link TLS_RELOAD_MS} (so a rotated client certificate is picked up, and gets a pool of its
 * own), and keeps one connection pool per TLS identity: an undici Agent for the generated
 * clients, a keep-alive https.Agent for kube-http's lists and watches.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { type Clock, systemClock } from './clock.ts';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** TLS_RELOAD_MS is how long TLS material read from the kubeconfig's files is used before they are read again. */
export const TLS_RELOAD_MS = 60_000;

/** The TLS half of a request's options, and the key of its connection pools. */
interface TlsMaterial {
  readonly options: Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  readonly key: string;
  readonly readAt: number;
}

/** client-node applies tokens and auth plugins (exec, OIDC, token files) in a method its typings keep private. */
interface AuthorizationApplier {
  applyAuthorizationHeader(options: RequestOptions): Promise<void>;
}

/** PooledKubeConfig is a KubeConfig whose API clients share one connection pool per TLS identity. */
export class PooledKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>();
  readonly #agents = new Map<string, HttpsAgent>();
  readonly #clock: Clock;
  #tls: TlsMaterial | undefined;

  /** @param clock times the reloads of TLS material. @default systemClock */
  constructor(clock: Clock = systemClock) {
    super();
    this.#clock = clock;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const tls = this.#tlsMaterial();
    const dispatcher = this.#dispatchers.get(tls.key);
    if (!dispatcher) {
      // The base class builds the Agent (proxies included) and sets the headers, once per identity.
      await super.applySecurityAuthentication(context);
      const created = context.getDispatcher();
      if (created) this.#dispatchers.set(tls.key, created);
      return;
    }
    for (const [name, value] of Object.entries(await this.#headers())) context.setHeaderParam(name, value);
    context.setDispatcher(dispatcher);
  }

  /**
   * requestOptions are the options of a node:https request to the API server: the cached TLS
   * material, this request's auth headers and a keep-alive agent shared by every such request.
   */
  async requestOptions(): Promise<RequestOptions> {
    const tls = this.#tlsMaterial();
    let agent = this.#agents.get(tls.key);
    if (!agent) {
      agent = new HttpsAgent({ ...tls.options, keepAlive: true });
      this.#agents.set(tls.key, agent);
    }
    return { ...tls.options, headers: await this.#headers(), agent };
  }

  /** close ends the pooled connections. */
  async close(): Promise<void> {
    const dispatchers = [...this.#dispatchers.values()];
    this.#dispatchers.clear();
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
    await Promise.all(dispatchers.map((d) => d.close()));
  }

  #tlsMaterial(): TlsMaterial {
    if (this.#tls && this.#clock.now() - this.#tls.readAt < TLS_RELOAD_MS) return this.#tls;
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    const options: TlsMaterial['options'] = {
      ...optional('ca', fileOrData(cluster?.caFile, cluster?.caData)),
      ...optional('cert', fileOrData(user?.certFile, user?.certData)),
      ...optional('key', fileOrData(user?.keyFile, user?.keyData)),
      ...(cluster?.skipTLSVerify ? { rejectUnauthorized: false } : {}),
      ...optional('servername', cluster?.tlsServerName),
    };
    const key = createHash('sha256')
      .update(
        [
          cluster?.server ?? '',
          String(options.ca ?? ''),
          String(options.cert ?? ''),
          String(options.key ?? ''),
          String(options.rejectUnauthorized ?? ''),
          String(options.servername ?? ''),
        ].join('\0'),
      )
      .digest('hex');
    this.#tls = { options, key, readAt: this.#clock.now() };
    return this.#tls;
  }

  /** The headers of one request: tokens and auth plugins may change between requests. */
  async #headers(): Promise<Record<string, string>> {
    const options: RequestOptions = { headers: {} };
    await (this as unknown as AuthorizationApplier).applyAuthorizationHeader(options);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name] = `${value}`;
    const user = this.getCurrentUser();
    if (user?.username) {
      headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    }
    if (user?.impersonateUser) headers['Impersonate-User'] = user.impersonateUser;
    return headers;
  }
}

function fileOrData(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(file);
  return data ? Buffer.from(data, 'base64') : undefined;
}

function optional<K extends string, V>(name: K, value: V | undefined): { [key in K]?: V } {
  return value === undefined ? {} : ({ [name]: value } as { [key in K]: V });
}

/** pooled returns a PooledKubeConfig with the same clusters, users and contexts as `kubeConfig`. */
export function pooled(kubeConfig: KubeConfig, clock: Clock = systemClock): PooledKubeConfig {
  if (kubeConfig instanceof PooledKubeConfig) return kubeConfig;
  const copy = new PooledKubeConfig(clock);
  copy.loadFromOptions({
    clusters: kubeConfig.getClusters(),
    users: kubeConfig.getUsers(),
    contexts: kubeConfig.getContexts(),
    currentContext: kubeConfig.getCurrentContext(),
  });
  return copy;
}
