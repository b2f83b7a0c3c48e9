import { KeyedSlots } from './keyed-slots';

/** A delivery's place in its endpoint's and subscriber's attempts at once. */
export interface TakenShare {
  /** Gives it to the next waiting (once; a second call does nothing). */
  release: () => void;
  /** It waited for the place: admitted ahead of its share, behind its own endpoint's or subscriber's. */
  waited: boolean;
}

/**
 * What one endpoint and one subscriber may have in attempts at once in one lane of one worker:
 * their shares of its slots (capsFor). A run of one endpoint's turns admitted together may hold up
 * to SchedulingOptions.admitAhead times them in one job (admit.lua), so that a busy endpoint pays
 * admission and the job's add, fetch and finish once for several turns; what of it is over the
 * shares waits here, first come first served, holding no slot of the lane nor of a receiver's
 * address, until one of its own ends. Only a run's job can be over them, so they hold across all
 * workers.
 */
export class SendingShares {
  private readonly endpoints: KeyedSlots;
  private readonly subscribers: KeyedSlots;

  constructor(caps: { endpoint: number; subscriber: number }) {
    this.endpoints = new KeyedSlots(caps.endpoint);
    this.subscribers = new KeyedSlots(caps.subscriber);
  }

  /**
   * Waits for the endpoint's turn, then its subscriber's; resolves with the release of both, and
   * whether it waited (it was admitted ahead of a share). A job admitted by a version that did not
   * name the subscriber waits for its endpoint's turn only.
   */
  async take(endpointId: string, subscriberId: string | undefined): Promise<TakenShare> {
    const endpoint = await this.endpoints.take(endpointId);
    const subscriber = subscriberId === undefined ? undefined : await this.subscribers.take(subscriberId);
    return {
      release: () => {
        subscriber?.release();
        endpoint.release();
      },
      waited: endpoint.waited || subscriber?.waited === true,
    };
  }

  /** A worker that stops: every delivery waiting here goes on at once (to be put back in its lane). */
  letWaitingGo(): void {
    this.endpoints.letAllGo();
    this.subscribers.letAllGo();
  }

  /** In attempts now (tests). */
  inAttempts(endpointId: string, subscriberId: string): { endpoint: number; subscriber: number } {
    return { endpoint: this.endpoints.held(endpointId), subscriber: this.subscribers.held(subscriberId) };
  }
}
