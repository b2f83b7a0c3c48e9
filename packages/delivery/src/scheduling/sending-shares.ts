import { KeyedSlots } from './keyed-slots';

/**
 * What one endpoint and one subscriber may have in attempts at once in one lane of one worker:
 * their shares of its slots (capsFor). Admission lets each hold more than its share admitted
 * (SchedulingOptions.admitAhead), so that a busy endpoint's next turns ride in the same BullMQ job
 * and its admission, job add, fetch and finish are paid once for several of its shares; the
 * deliveries admitted ahead wait here, first come first served, holding no slot of the lane nor of
 * a receiver's address, until one of their own ends.
 */
export class SendingShares {
  private readonly endpoints: KeyedSlots;
  private readonly subscribers: KeyedSlots;

  constructor(caps: { endpoint: number; subscriber: number }) {
    this.endpoints = new KeyedSlots(caps.endpoint);
    this.subscribers = new KeyedSlots(caps.subscriber);
  }

  /**
   * Waits for the endpoint's turn, then its subscriber's; resolves with the release of both. A job
   * admitted by a version that did not name the subscriber waits for its endpoint's turn only.
   */
  async take(endpointId: string, subscriberId: string | undefined): Promise<() => void> {
    const releaseEndpoint = await this.endpoints.take(endpointId);
    const releaseSubscriber = subscriberId === undefined ? undefined : await this.subscribers.take(subscriberId);
    return () => {
      releaseSubscriber?.();
      releaseEndpoint();
    };
  }

  /** In attempts now (tests). */
  inAttempts(endpointId: string, subscriberId: string): { endpoint: number; subscriber: number } {
    return { endpoint: this.endpoints.held(endpointId), subscriber: this.subscribers.held(subscriberId) };
  }
}
