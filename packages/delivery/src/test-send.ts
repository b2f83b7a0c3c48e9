import { USER_AGENT, type AttemptRecord, type Endpoint, type StoredEvent } from '@hookrelay/contracts';
import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import type { Store } from '@hookrelay/store';
import type { Dispatcher } from 'undici';
import { AuthenticatedSender } from './auth/authenticated-send';
import { DigestSessions } from './auth/digest-sessions';
import { OAuthTokenCache } from './auth/oauth-token-cache';
import { createDeliveryProcessor } from './processor';

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
}

/** An AuthenticatedSender with its own OAuth token cache and Digest sessions. */
export function createAuthenticatedSender(options: Pick<TestSenderOptions, 'dispatcher' | 'logger' | 'now'>): AuthenticatedSender {
  const oauth = new OAuthTokenCache({ dispatcher: options.dispatcher, userAgent: USER_AGENT, logger: options.logger, now: options.now });
  return new AuthenticatedSender({ dispatcher: options.dispatcher, oauth, digest: new DigestSessions(), logger: options.logger, now: options.now });
}

/**
 * Sends an event to one endpoint now, in the caller's process, through the same processor the
 * worker runs (signing, auth, recording), as a single attempt: Zenduty's "Test webhook" button.
 * The event and its delivery are recorded like any other, so the test shows up in the history.
 */
export function createTestSender(options: TestSenderOptions): (endpoint: Endpoint, event: StoredEvent) => Promise<TestSendResult> {
  const auth = options.auth ?? createAuthenticatedSender(options);
  return async (endpoint, event) => {
    const processor = createDeliveryProcessor({
      store: options.store,
      // The endpoint as the caller holds it: no cache between a change and its test.
      endpoints: { get: async (id) => (id === endpoint.id ? endpoint : options.store.endpoints.get(id)) },
      dispatcher: options.dispatcher,
      auth,
      logger: options.logger,
      metrics: options.metrics,
      userAgent: USER_AGENT,
      now: options.now,
    });
    const [[delivery] = []] = await options.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }]);
    if (!delivery) throw new Error('test delivery was not recorded');
    await processor({ data: { eventId: event.id, endpointId: endpoint.id, manual: true }, timestamp: options.now() }).catch(
      () => undefined, // a failed attempt is an answer here, not an error: it is in the record
    );
    const attempts = await options.store.deliveries.attempts(delivery.id);
    return { eventId: event.id, deliveryId: delivery.id, attempt: attempts[attempts.length - 1] ?? null };
  };
}
