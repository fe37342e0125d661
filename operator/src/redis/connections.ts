/**
 * Connections to every node of a Redis deployment, shared per endpoint set: a reconcile reuses the
 * connections of the previous one instead of opening new ones. A cluster's nodes (masters and
 * replicas, reachable or not) come from `CLUSTER NODES` of any reachable seed; a standalone
 * deployment's nodes are its endpoints; a Sentinel-managed deployment's nodes are the master and
 * replicas the first answering Sentinel names, asked again at every discovery so a failover is
 * followed. Each node gets its own plain connection, so a command
 * goes to exactly that node and one node being down fails only its own commands.
 *
 * The metric sources read through these connections (INFO) and the maxmemory actuator writes
 * through them (CONFIG SET), so they live apart from both: measuring does not import the code
 * that writes.
 *
 * Errors never leave this module raw: ioredis attaches the command's arguments to its errors
 * (`AUTH <password>` among them), so callers only ever see messages, with the password removed.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Redis } from 'ioredis';
import type { RedisSource } from '../api/v1alpha1/metrics-spec.ts';

/** One Redis deployment as the profile names it. */
export interface RedisEndpointSet {
  /**
   * endpoints are `host:port` seeds: every node of a standalone deployment, any nodes of a cluster;
   * empty when `sentinel` finds the nodes.
   */
  readonly endpoints: readonly string[];
  /** sentinel, when given, finds the nodes through Sentinel instead of `endpoints`. */
  readonly sentinel?: SentinelSet;
  /** username is the ACL user (AUTH username password); without it the password is the default user's. */
  readonly username?: string;
  /** password authenticates to every node (`requirepass`, or the ACL user's); never logged. */
  readonly password?: string;
  /** tls connects with TLS, verifying the server against `ca` when given, else the system's CAs. @default false */
  readonly tls?: boolean;
  /** ca is the PEM CA bundle that verifies the nodes over TLS (never logged). */
  readonly ca?: string;
}

/** The secrets a profile's Redis source names, read by the caller (each undefined when not named). */
export interface RedisSourceSecrets {
  /** password is the key `passwordSecretRef` names. */
  readonly password?: string | undefined;
  /** sentinelPassword is the key `sentinel.passwordSecretRef` names. */
  readonly sentinelPassword?: string | undefined;
  /** ca is the key `tls.caBundleSecretRef` names. */
  readonly ca?: string | undefined;
}

/**
 * endpointSetOf is the endpoint set of a profile's `spec.metrics.redis`: its endpoints, or with
 * `sentinel` no endpoints and the Sentinels; its ACL user; its secrets as read; TLS when `tls` is
 * present.
 */
export function endpointSetOf(source: RedisSource, secrets: RedisSourceSecrets): RedisEndpointSet {
  const { sentinel } = source;
  const { password, sentinelPassword, ca } = secrets;
  return {
    endpoints: sentinel ? [] : (source.endpoints ?? []),
    ...(sentinel
      ? {
          sentinel: {
            endpoints: sentinel.endpoints,
            masterName: sentinel.masterName,
            ...(sentinelPassword !== undefined ? { password: sentinelPassword } : {}),
          },
        }
      : {}),
    ...(source.username !== undefined ? { username: source.username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(source.tls ? { tls: true, ...(ca !== undefined ? { ca } : {}) } : {}),
  };
}

/** The Sentinels of a Sentinel-managed deployment. */
export interface SentinelSet {
  /** endpoints are the Sentinels' `host:port`, asked in order until one answers. */
  readonly endpoints: readonly string[];
  /** masterName is the name the Sentinels monitor the master under. */
  readonly masterName: string;
  /** password is the Sentinels' own `requirepass`; never logged. */
  readonly password?: string;
}

/** A node's role in replication. */
export type RedisRole = 'master' | 'replica';

/** One node found by discovery. */
export interface RedisNode {
  /** address is `host:port`, the node's hostname when it announces one, else its IP. */
  readonly address: string;
  readonly role: RedisRole;
  /** failing is true when the cluster marks the node `fail` or `fail?`. */
  readonly failing: boolean;
}

/** A node (or seed) that did not answer, with a message safe to log. */
export interface RedisNodeFailure {
  readonly address: string;
  readonly role?: RedisRole;
  readonly error: string;
}

/** What discovery found. */
export interface RedisTopology {
  /** cluster is true for Redis Cluster, false for standalone nodes (Sentinel-managed or not). */
  readonly cluster: boolean;
  /** nodes are every known node, sorted by address. */
  readonly nodes: readonly RedisNode[];
  /**
   * unreachable lists seeds that did not answer while discovering (standalone: those nodes; with
   * Sentinel: every Sentinel, when none could name the master).
   */
  readonly unreachable: readonly RedisNodeFailure[];
}

/** Options of RedisConnections. */
export interface RedisConnectionOptions {
  /** connectTimeoutMs bounds one connection attempt. @default 2000 */
  readonly connectTimeoutMs?: number;
  /** commandTimeoutMs bounds one command, so a hung node cannot stall a reconcile. @default 3000 */
  readonly commandTimeoutMs?: number;
}

interface Entry {
  readonly credentials: string;
  readonly clients: Map<string, Redis>;
  /** sentinels are the connections to the Sentinels, apart from the nodes': another password. */
  readonly sentinels: Map<string, Redis>;
  readonly lastErrors: Map<string, string>;
}

/** RedisConnections holds one connection per node, grouped by endpoint set. Close it on shutdown. */
export class RedisConnections {
  readonly #entries = new Map<string, Entry>();
  readonly #connectTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  #closed = false;

  constructor(options: RedisConnectionOptions = {}) {
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 3000;
  }

  /** size is the number of open node connections, over all endpoint sets. */
  get size(): number {
    let n = 0;
    for (const entry of this.#entries.values()) n += entry.clients.size + entry.sentinels.size;
    return n;
  }

  /**
   * command sends one command to one node of `set` and returns its reply. Failures reject with an
   * Error whose message names the node and never contains the password.
   */
  async command(
    set: RedisEndpointSet,
    address: string,
    args: readonly [string, ...string[]],
  ): Promise<unknown> {
    const entry = this.#entry(set);
    return await this.#send(entry, this.#client(entry, entry.clients, address, set), address, args, set);
  }

  /** #send runs one command on `client`, turning its failure into a message safe to log. */
  async #send(
    entry: Entry,
    client: Redis,
    address: string,
    args: readonly [string, ...string[]],
    set: RedisEndpointSet,
  ): Promise<unknown> {
    const redact = (text: string) => redactSecret(redactSecret(text, set.password), set.sentinel?.password);
    try {
      if (client.status === 'wait') await client.connect();
      // A node that is down fails at once rather than after the next reconnect attempt (up to
      // 2 s): a reconcile names it and moves on; the connection keeps retrying in the background.
      if (client.status === 'reconnecting') throw new Error('not connected');
      return await client.call(...args);
    } catch (err) {
      const last = entry.lastErrors.get(address);
      const message = redact(errorText(err));
      const detail = last && !message.includes(last) ? `${message} (${redact(last)})` : message;
      throw new Error(`${address}: ${detail}`);
    }
  }

  /**
   * discover finds every node of `set`: in a cluster, from `CLUSTER NODES` of the first seed that
   * answers; standalone, each endpoint with its role from `ROLE`.
   */
  async discover(set: RedisEndpointSet): Promise<RedisTopology> {
    if (set.sentinel) return await this.#discoverThroughSentinel(set, set.sentinel);
    const unreachable: RedisNodeFailure[] = [];
    const standalone: RedisNode[] = [];
    for (const seed of set.endpoints) {
      let info: string;
      try {
        info = String(await this.command(set, seed, ['INFO', 'cluster']));
      } catch (err) {
        unreachable.push({ address: seed, error: errorText(err) });
        continue;
      }
      if (/^cluster_enabled:1/m.test(info)) {
        try {
          const text = String(await this.command(set, seed, ['CLUSTER', 'NODES']));
          const nodes = parseClusterNodes(text, hostOf(seed));
          this.#prune(set, new Set([...set.endpoints, ...nodes.map((n) => n.address)]));
          return { cluster: true, nodes, unreachable };
        } catch (err) {
          unreachable.push({ address: seed, error: errorText(err) });
          continue;
        }
      }
      try {
        const [role] = (await this.command(set, seed, ['ROLE'])) as [string];
        standalone.push({ address: seed, role: role === 'master' ? 'master' : 'replica', failing: false });
      } catch (err) {
        unreachable.push({ address: seed, error: errorText(err) });
      }
    }
    standalone.sort((a, b) => a.address.localeCompare(b.address));
    return { cluster: false, nodes: standalone, unreachable };
  }

  /**
   * #discoverThroughSentinel asks the Sentinels in order for the master's address and its
   * replicas (`SENTINEL GET-MASTER-ADDR-BY-NAME`, `SENTINEL REPLICAS`); the first that answers
   * both decides. A replica the Sentinel flags down or disconnected is `failing`.
   */
  async #discoverThroughSentinel(set: RedisEndpointSet, sentinel: SentinelSet): Promise<RedisTopology> {
    const entry = this.#entry(set);
    const unreachable: RedisNodeFailure[] = [];
    for (const address of sentinel.endpoints) {
      const client = this.#client(entry, entry.sentinels, address, set, sentinel.password);
      const ask = async (args: [string, ...string[]]) => await this.#send(entry, client, address, args, set);
      try {
        const master = await ask(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sentinel.masterName]);
        if (!Array.isArray(master) || master.length < 2) {
          throw new Error(`${address}: this Sentinel monitors no master named "${sentinel.masterName}"`);
        }
        const replicas = parseSentinelReplicas(await ask(['SENTINEL', 'REPLICAS', sentinel.masterName]));
        const nodes: RedisNode[] = [
          {
            address: joinAddress(String(master[0]), String(master[1])),
            role: 'master' as const,
            failing: false,
          },
          ...replicas,
        ].sort((a, b) => a.address.localeCompare(b.address));
        // A failover leaves the old master's connection behind once it is neither master nor replica.
        this.#prune(set, new Set(nodes.map((n) => n.address)));
        return { cluster: false, nodes, unreachable: [] };
      } catch (err) {
        unreachable.push({ address, error: `Sentinel ${errorText(err)}` });
      }
    }
    return { cluster: false, nodes: [], unreachable };
  }

  /** release closes the connections of one endpoint set (a profile deleted or changed). */
  release(set: Pick<RedisEndpointSet, 'endpoints' | 'sentinel'>): void {
    const key = setKey(set);
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    for (const client of [...entry.clients.values(), ...entry.sentinels.values()]) client.disconnect();
  }

  /** close ends every connection; later commands reject. */
  async close(): Promise<void> {
    this.#closed = true;
    const clients = [...this.#entries.values()].flatMap((e) => [
      ...e.clients.values(),
      ...e.sentinels.values(),
    ]);
    this.#entries.clear();
    await Promise.all(
      clients.map(async (c) => {
        // QUIT lets the server close cleanly; a node that is down just gets disconnected.
        if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
        else c.disconnect();
      }),
    );
  }

  /** #prune closes the connections to nodes that left the cluster, so they do not reconnect forever. */
  #prune(set: RedisEndpointSet, keep: ReadonlySet<string>): void {
    const entry = this.#entries.get(setKey(set));
    if (!entry) return;
    for (const [address, client] of entry.clients) {
      if (keep.has(address)) continue;
      client.disconnect();
      entry.clients.delete(address);
      entry.lastErrors.delete(address);
    }
  }

  #entry(set: RedisEndpointSet): Entry {
    if (this.#closed) throw new Error('Redis connections are closed');
    const key = setKey(set);
    // The password is part of the identity, hashed: a rotated password gets new connections.
    const credentials = createHash('sha256')
      .update(
        [
          set.username ?? '',
          set.password ?? '',
          set.sentinel?.password ?? '',
          set.tls ? 'tls' : '',
          set.ca ?? '',
        ].join('\0'),
      )
      .digest('hex');
    const existing = this.#entries.get(key);
    if (existing?.credentials === credentials) return existing;
    if (existing) this.release(set);
    const entry: Entry = { credentials, clients: new Map(), sentinels: new Map(), lastErrors: new Map() };
    this.#entries.set(key, entry);
    return entry;
  }

  /**
   * #client is the connection to `address` in `clients` (the nodes', or the Sentinels' with their
   * own `password` and no ACL user), opened lazily.
   */
  #client(
    entry: Entry,
    clients: Map<string, Redis>,
    address: string,
    set: RedisEndpointSet,
    sentinelPassword?: string,
  ): Redis {
    const existing = clients.get(address);
    if (existing) return existing;
    const { host, port } = splitAddress(address);
    const forSentinel = clients === entry.sentinels;
    const password = forSentinel ? sentinelPassword : set.password;
    const client = new Redis({
      host,
      port,
      ...(password === undefined ? {} : { password }),
      ...(set.username === undefined || forSentinel ? {} : { username: set.username }),
      // SNI takes a hostname, never an IP address.
      ...(set.tls
        ? {
            tls: {
              ...(set.ca === undefined ? {} : { ca: set.ca }),
              ...(isIP(host) ? {} : { servername: host }),
            },
          }
        : {}),
      lazyConnect: true,
      connectTimeout: this.#connectTimeoutMs,
      commandTimeout: this.#commandTimeoutMs,
      // A command to a node that is down fails at once instead of waiting for it to return.
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(200 * times, 2000),
    });
    // Kept as text only: an error object may carry the AUTH command's arguments.
    client.on('error', (err: unknown) => entry.lastErrors.set(address, errorText(err)));
    client.on('ready', () => entry.lastErrors.delete(address));
    clients.set(address, client);
    return client;
  }
}

function setKey(set: Pick<RedisEndpointSet, 'endpoints' | 'sentinel'>): string {
  const sentinel = set.sentinel
    ? `sentinel:${set.sentinel.masterName}@${[...set.sentinel.endpoints].sort().join(',')}`
    : '';
  return sentinel || [...set.endpoints].sort().join(',');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** redactSecret replaces every occurrence of `secret` in `text`; a defence behind never passing errors on. */
export function redactSecret(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text;
}

function hostOf(address: string): string {
  return splitAddress(address).host;
}

/** splitAddress parses `host:port` (IPv6 hosts in brackets or not). */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Redis endpoint must be host:port, got "${address}"`);
  }
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

/** joinAddress writes `host:port`, an IPv6 host in brackets. */
function joinAddress(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * parseSentinelReplicas reads `SENTINEL REPLICAS <name>`: one flat list of field, value pairs per
 * replica (`ip`, `port`, `flags` among them). A replica flagged `s_down`, `o_down` or
 * `disconnected` is failing.
 */
export function parseSentinelReplicas(reply: unknown): RedisNode[] {
  if (!Array.isArray(reply)) throw new Error(`SENTINEL REPLICAS answered ${String(reply)}`);
  const nodes: RedisNode[] = [];
  for (const fields of reply) {
    if (!Array.isArray(fields)) continue;
    const value = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) value.set(String(fields[i]), String(fields[i + 1]));
    const ip = value.get('ip');
    const port = value.get('port');
    if (!ip || !port) continue;
    const flags = (value.get('flags') ?? '').split(',');
    nodes.push({
      address: joinAddress(ip, port),
      role: 'replica',
      failing: flags.some((f) => f === 's_down' || f === 'o_down' || f === 'disconnected'),
    });
  }
  return nodes.sort((a, b) => a.address.localeCompare(b.address));
}

/**
 * parseClusterNodes reads `CLUSTER NODES`: one node per line, `<id> <ip:port@cport[,hostname]>
 * <flags> …`. Nodes still in handshake or without an address are left out; a node's own line may
 * have an empty IP, which is `seedHost`, the host it was asked through.
 */
export function parseClusterNodes(text: string, seedHost: string): RedisNode[] {
  const nodes: RedisNode[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 3) continue;
    const [, addressField = '', flagField = ''] = fields;
    const flags = flagField.split(',');
    if (flags.includes('handshake') || flags.includes('noaddr')) continue;
    const [endpoint = '', hostname = ''] = addressField.split(',');
    const hostPort = endpoint.split('@')[0] ?? '';
    const colon = hostPort.lastIndexOf(':');
    if (colon < 0) continue;
    const ip = hostPort.slice(0, colon) || seedHost;
    const port = hostPort.slice(colon + 1);
    nodes.push({
      address: `${hostname || ip}:${port}`,
      role: flags.includes('master') ? 'master' : 'replica',
      failing: flags.includes('fail') || flags.includes('fail?'),
    });
  }
  return nodes.sort((a, b) => a.address.localeCompare(b.address));
}
