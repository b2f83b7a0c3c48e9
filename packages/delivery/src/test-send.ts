import { USER_AGENT, type AttemptRecord, type Endpoint, type StoredEvent } from '@hookrelay/contracts';
import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import { pendingDelivery, type Store } from '@hookrelay/store';
import type { Dispatcher } from 'undici';
import { AuthenticatedSender } from './auth/authenticated-send';
import { DigestSessions } from './auth/digest-sessions';
import { OAuthTokenCache } from './auth/oauth-token-cache';
import type { HostResolver } from './ssrf/host-resolver';
import type { TlsHandshakeBudget } from './ssrf/tls-handshake-budget';
import { createAttempter } from './processor';

export interface TestSendResult {
  eventId: string;
  deliveryId: string;
  attempt: AttemptRecord | null;
}

export interface TestSenderOptions {
  store: Store;
  dispatcher: Dispatcher;
  logger: Logger;
  metrics: HookrelayMetrics;
  now: () => number;
  /** The sender holding OAuth tokens and Digest nonces; one is made when not given. */
  auth?: AuthenticatedSender;
  /** The process's bound on failed TLS handshakes per subscriber (the dispatcher's too); none: not bounded. */
  tlsHandshakes?: TlsHandshakeBudget;
}

/** An AuthenticatedSender with its own OAuth token cache and Digest sessions. */
export function createAuthenticatedSender(
  options: Pick<TestSenderOptions, 'dispatcher' | 'logger' | 'now'> & { resolver?: HostResolver },
): AuthenticatedSender {
  const oauth = new OAuthTokenCache({
    dispatcher: options.dispatcher,
    userAgent: USER_AGENT,
    logger: options.logger,
    now: options.now,
    resolver: options.resolver,
  });
  return new AuthenticatedSender({
    dispatcher: options.dispatcher,
    oauth,
    digest: new DigestSessions(),
    logger: options.logger,
    now: options.now,
    resolver: options.resolver,
  });
}

/**
 * Sends an event to one endpoint now, in the caller's process, through the same processor the
 * worker runs (signing, auth, recording), as a single attempt: Zenduty's "Test webhook" button.
 * The event and its delivery are recorded like any other, so the test shows up in the history.
 */
export function createTestSender(options: TestSenderOptions): (endpoint: Endpoint, event: StoredEvent) => Promise<TestSendResult> {
  const auth = options.auth ?? createAuthenticatedSender(options);
  return async (endpoint, event) => {
    const attemptDelivery = createAttempter({
      store: options.store,
      // The endpoint as the caller holds it: no cache between a change and its test.
      endpoints: { get: async () => endpoint },
      dispatcher: options.dispatcher,
      auth,
      logger: options.logger,
      metrics: options.metrics,
      userAgent: USER_AGENT,
      now: options.now,
      tlsHandshakes: options.tlsHandshakes,
    });
    // Recorded like any delivery, but out of the scheduler's lanes: this process makes its one attempt.
    const [[created] = []] = await options.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }], { schedule: false });
    if (!created) throw new Error('test delivery was not recorded');
    const delivery = pendingDelivery(created.id, event, endpoint.id, options.now());
    // A failed attempt is recorded, not thrown; what throws (Redis unreachable) is the caller's error.
    await attemptDelivery({ delivery, event, endpoint, manual: true });
    const attempts = await options.store.deliveries.attempts(delivery.id);
    return { eventId: event.id, deliveryId: delivery.id, attempt: attempts[attempts.length - 1] ?? null };
  };
}
