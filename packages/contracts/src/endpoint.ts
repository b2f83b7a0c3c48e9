import { publicAuthView, type EndpointAuth, type PublicAuthView } from './auth';
import type { CustomHeaders } from './headers';
import type { RetryPolicy } from './retry';
import type { SignatureConfig } from './signature';

export type EndpointStatus = 'active' | 'disabled';

/** A secret that still signs beside the current one until `expiresAt` (rotation grace period). */
export interface RetiringSecret {
  secret: string;
  expiresAt: number;
}

/**
 * An endpoint's delivery rate limit (Svix and Convoy have one): deliveries over it wait in the
 * endpoint's lane, holding no worker slot, and are not failed attempts. A fraction is allowed
 * (0.5: one every two seconds).
 */
export interface EndpointRateLimit {
  perSecond: number;
}

/** Deliveries a second an endpoint may be limited to, at most (the scheduler admits one per 1020/n ms: 2% under the limit). */
export const MAX_RATE_LIMIT_PER_SECOND = 10_000;

/** An endpoint as stored: everything the worker needs to deliver to it. */
export interface Endpoint {
  id: string;
  subscriberId: string;
  url: string;
  description: string;
  /** Dot-separated patterns; see matchesEventType. */
  eventTypes: string[];
  signature: SignatureConfig;
  secret: string;
  previousSecrets: RetiringSecret[];
  headers: CustomHeaders;
  /** How the worker authenticates to the receiver; absent (endpoints stored before auth existed) means none. */
  auth?: EndpointAuth;
  retry: RetryPolicy;
  timeoutMs: number;
  /** At most this many deliveries a second, across every worker; absent for no limit. */
  rateLimit?: EndpointRateLimit;
  status: EndpointStatus;
  disabledReason?: string;
  /** How the endpoint proves itself when created and whenever its URL changes. */
  verify?: 'none' | 'post' | 'get' | 'challenge';
  /** When it was disabled, for any reason (epoch ms). */
  disabledAt?: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * Retiring secrets an endpoint keeps at most: a rotation past it drops the oldest. Each one signs
 * every standard-webhooks delivery while in grace (an HMAC of the body each), so without a bound a
 * subscriber rotating in a loop made each of its deliveries cost the shared worker one HMAC per
 * rotation (and its record, and every read of it, grow with them).
 */
export const MAX_RETIRING_SECRETS = 3;

/** The retiring secrets still in grace at `nowMs`, at most the MAX_RETIRING_SECRETS newest, in their stored order (oldest first). */
export function liveRetiringSecrets(previousSecrets: readonly RetiringSecret[], nowMs: number): RetiringSecret[] {
  return previousSecrets.filter((s) => s.expiresAt > nowMs).slice(-MAX_RETIRING_SECRETS);
}

/** The secrets that sign a delivery at `nowMs`: the current one first, then those still in grace. */
export function signingSecrets(endpoint: Pick<Endpoint, 'secret' | 'previousSecrets'>, nowMs: number): string[] {
  return [endpoint.secret, ...liveRetiringSecrets(endpoint.previousSecrets, nowMs).map((s) => s.secret)];
}

/**
 * An endpoint without its secrets: what fan-out, listings, views and ownership checks need. It is
 * built from the stored record without decrypting anything, so it can be read even when a secret
 * cannot (`secret_unreadable`), and costs no decryption on the publish path.
 */
export type EndpointSummary = Omit<Endpoint, 'secret' | 'previousSecrets' | 'auth'> & {
  /** When each retiring secret stops signing; not the secrets. */
  previousSecrets: Array<Pick<RetiringSecret, 'expiresAt'>>;
  /** The auth scheme and its non-secret fields (publicAuthView). */
  auth: PublicAuthView;
};

/**
 * The summary of an endpoint. Reads only fields that are never secret, so it may be given a stored
 * record whose secrets are still sealed.
 */
export function summarizeEndpoint(endpoint: Endpoint): EndpointSummary {
  const { secret: _secret, previousSecrets, auth, ...rest } = endpoint;
  return { ...rest, previousSecrets: (previousSecrets ?? []).map((s) => ({ expiresAt: s.expiresAt })), auth: publicAuthView(auth) };
}
