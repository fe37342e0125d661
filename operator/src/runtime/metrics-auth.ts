/**
 * Authentication and authorization of /metrics scrapes, as controller-runtime's
 * `filters.WithAuthenticationAndAuthorization` does it: the bearer token is checked with a
 * TokenReview, then the user it names is checked with a SubjectAccessReview for the
 * non-resource URL and the request's verb (`get /metrics`). Answers are cached, so a scraper
 * costs the API server two requests per token and TTL, not two per scrape; TTLs are
 * controller-runtime's (tokens 1 minute; allows 5 minutes, denials 30 seconds, so a newly bound
 * role takes effect within half a minute). Anonymous requests are refused.
 */
import { createHash } from 'node:crypto';
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  type KubeConfig,
  type V1SubjectAccessReview,
  type V1TokenReview,
} from '@kubernetes/client-node';
import type { Clock } from './clock.ts';

/** TOKEN_CACHE_TTL_MS is how long a TokenReview's answer is reused (controller-runtime: 1 minute). */
export const TOKEN_CACHE_TTL_MS = 60_000;
/** ALLOW_CACHE_TTL_MS is how long an allowing SubjectAccessReview is reused (controller-runtime: 5 minutes). */
export const ALLOW_CACHE_TTL_MS = 5 * 60_000;
/** DENY_CACHE_TTL_MS is how long a denying SubjectAccessReview is reused (controller-runtime: 30 seconds). */
export const DENY_CACHE_TTL_MS = 30_000;
/** CACHE_MAX_ENTRIES bounds each cache, so a flood of made-up tokens cannot grow the heap. */
export const CACHE_MAX_ENTRIES = 1024;

/** ReviewUser is the user a TokenReview authenticated. */
export interface ReviewUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** ReviewClient sends the two reviews to the API server; createReviewClient makes one from a KubeConfig. */
export interface ReviewClient {
  createTokenReview(review: V1TokenReview): Promise<V1TokenReview>;
  createSubjectAccessReview(review: V1SubjectAccessReview): Promise<V1SubjectAccessReview>;
}

/** AuthVerdict is what the server answers: 200 serves the page, the others say why not. */
export type AuthVerdict =
  | { readonly status: 200; readonly user: string }
  | { readonly status: 401 | 403 | 500; readonly message: string; readonly error?: string };

/**
 * TtlCache keeps answers until their own expiry time; the oldest entry goes when it is full.
 * Keys are hashes or review attributes, never a token.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #clock: Clock;
  readonly #maxEntries: number;
  constructor(clock: Clock, maxEntries: number = CACHE_MAX_ENTRIES) {
    this.#clock = clock;
    this.#maxEntries = maxEntries;
  }

  /** get returns the value stored for key if it has not expired. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.#clock.now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** set stores value for ttlMs. */
  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, expiresAt: this.#clock.now() + ttlMs });
  }

  /** size is the number of entries held, expired or not. */
  get size(): number {
    return this.#entries.size;
  }
}

/** bearerToken reads `Authorization: Bearer <token>`; anything else is no token. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** MetricsAuthorizer decides whether a request for a non-resource URL may be served. */
export class MetricsAuthorizer {
  readonly #tokens: TtlCache<ReviewUser | null>;
  readonly #decisions: TtlCache<{ allowed: boolean; reason: string }>;
  readonly #client: ReviewClient;

  constructor(client: ReviewClient, clock: Clock) {
    this.#client = client;
    this.#tokens = new TtlCache(clock);
    this.#decisions = new TtlCache(clock);
  }

  /** check authenticates the Authorization header and authorizes `verb` on `path`. */
  async check(authorization: string | undefined, verb: string, path: string): Promise<AuthVerdict> {
    const token = bearerToken(authorization);
    if (!token) return { status: 401, message: 'Unauthorized' };
    let user: ReviewUser | null;
    try {
      user = await this.#authenticate(token);
    } catch (err) {
      return { status: 500, message: 'Authentication failed', error: errorText(err) };
    }
    if (!user) return { status: 401, message: 'Unauthorized' };
    try {
      const decision = await this.#authorize(user, verb, path);
      if (!decision.allowed) {
        return { status: 403, message: `Authorization denied for user ${user.username}` };
      }
    } catch (err) {
      return {
        status: 500,
        message: `Authorization for user ${user.username} failed`,
        error: errorText(err),
      };
    }
    return { status: 200, user: user.username };
  }

  async #authenticate(token: string): Promise<ReviewUser | null> {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.#tokens.get(key);
    if (cached !== undefined) return cached;
    const review = await this.#client.createTokenReview({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const status = review.status;
    const user: ReviewUser | null =
      status?.authenticated && status.user?.username
        ? {
            username: status.user.username,
            ...(status.user.uid ? { uid: status.user.uid } : {}),
            ...(status.user.groups ? { groups: status.user.groups } : {}),
            ...(status.user.extra ? { extra: status.user.extra } : {}),
          }
        : null;
    // A refused token is cached too: it will not become valid, and retrying it costs the API server.
    this.#tokens.set(key, user, TOKEN_CACHE_TTL_MS);
    return user;
  }

  async #authorize(
    user: ReviewUser,
    verb: string,
    path: string,
  ): Promise<{ allowed: boolean; reason: string }> {
    const key = JSON.stringify([user.username, user.uid, user.groups, user.extra, verb, path]);
    const cached = this.#decisions.get(key);
    if (cached) return cached;
    const review = await this.#client.createSubjectAccessReview({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: user.username,
        ...(user.uid ? { uid: user.uid } : {}),
        ...(user.groups ? { groups: [...user.groups] } : {}),
        ...(user.extra
          ? { extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])) }
          : {}),
        nonResourceAttributes: { path, verb },
      },
    });
    const decision = { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
    this.#decisions.set(key, decision, decision.allowed ? ALLOW_CACHE_TTL_MS : DENY_CACHE_TTL_MS);
    return decision;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** kubeReviewClient sends the reviews with the operator's own credentials. */
export function kubeReviewClient(kubeConfig: KubeConfig): ReviewClient {
  const authentication = kubeConfig.makeApiClient(AuthenticationV1Api);
  const authorization = kubeConfig.makeApiClient(AuthorizationV1Api);
  return {
    createTokenReview: async (body) => await authentication.createTokenReview({ body }),
    createSubjectAccessReview: async (body) => await authorization.createSubjectAccessReview({ body }),
  };
}
