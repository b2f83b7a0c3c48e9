import type { Endpoint } from '@hookrelay/contracts';
import type { HookrelayMetrics, Logger } from '@hookrelay/observability';
import type { Publisher } from '@hookrelay/publishing';
import type { FailureStreak, Store } from '@hookrelay/store';
import type { DisableEndings, Ending } from './disable-endings';

export interface CircuitBreakerPolicy {
  /** Consecutive failed deliveries that disable an endpoint... @defaultValue 50 */
  failures: number;
  /** ...when the failing streak has lasted at least this long. @defaultValue 24 h */
  spanMs: number;
}

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerPolicy = Object.freeze({ failures: 50, spanMs: 24 * 3600 * 1000 });

export interface EndpointGuardOptions {
  store: Store;
  /** Publishes the `endpoint.disabled` event. */
  publisher: Publisher;
  logger: Logger;
  metrics: HookrelayMetrics;
  policy?: CircuitBreakerPolicy;
  now: () => number;
  /**
   * Where a disable's ending of open deliveries runs: given (the worker), on the subscriber's chain,
   * one endpoint of a subscriber at a time, after `disable` returns; absent (the API, whose disables
   * are one at a time per subscriber already), within `disable`.
   */
  endings?: DisableEndings;
  /** Open deliveries read and ended together, one script call. @defaultValue 500 */
  endedTogether?: number;
}

export type DisableReason = 'gone' | 'failing' | 'manual';

/**
 * What a disable did: `disabled`, whether this call disabled the endpoint (another may have first);
 * `read` and `ended`, the open deliveries it read from the scheduler and those it failed, within
 * the call (0 when the ending is left to `endings`): what the API charges a manual disable.
 */
export interface DisableResult {
  disabled: boolean;
  read: number;
  ended: number;
}

const NOT_DISABLED: DisableResult = Object.freeze({ disabled: false, read: 0, ended: 0 });

/**
 * Open deliveries one disable ends at most. Any beyond (a lane longer than this) are ended by the
 * worker when admitted, unsent (`endpoint_disabled`), as is anything the disable did not reach.
 */
const MAX_ENDED_BY_DISABLE = 10_000;
/**
 * Open deliveries read and ended together (openOf, then one script call), each batch awaited before
 * the next is read, so neither Redis nor the process's event loop is held for a whole disable at once.
 */
const ENDED_TOGETHER = 500;

/**
 * Keeps an endpoint's health and stops hammering one that is gone: a 410 disables it at once
 * (Standard Webhooks), and a long run of failed deliveries trips the circuit breaker. Disabling
 * fails the endpoint's open deliveries with `endpoint_disabled` and tells the subscriber with an
 * `endpoint.disabled` event on its other endpoints.
 */
export class EndpointGuard {
  private readonly policy: CircuitBreakerPolicy;

  constructor(private readonly options: EndpointGuardOptions) {
    this.policy = options.policy ?? DEFAULT_CIRCUIT_BREAKER;
  }

  /**
   * After every attempt, with the endpoint's failure streak as recorded with the attempt: a 410
   * disables at once; a streak long enough in both count and time trips the breaker.
   */
  async afterAttempt(
    endpoint: Endpoint,
    outcome: { statusCode?: number; final: 'delivered' | 'failed' | 'none'; streak: FailureStreak },
  ): Promise<void> {
    const now = this.options.now();
    const { streak } = outcome;
    if (outcome.statusCode === 410) {
      await this.disable(endpoint, 'gone', 'the receiver answered 410 Gone');
      return;
    }
    if (
      outcome.final === 'failed' &&
      streak.consecutiveFailures >= this.policy.failures &&
      streak.failingSince !== null &&
      now - streak.failingSince >= this.policy.spanMs
    ) {
      await this.disable(
        endpoint,
        'failing',
        `${streak.consecutiveFailures} consecutive failed deliveries since ${new Date(streak.failingSince).toISOString()}`,
      );
    }
  }

  async disable(endpoint: Pick<Endpoint, 'id'>, reason: DisableReason, detail: string): Promise<DisableResult> {
    const { store } = this.options;
    // Many deliveries can fail at once: only the first to claim the change disables and announces.
    // The claim is held while it does (60 s at most, should this process die) and given back
    // after: whoever claims next finds the endpoint disabled already.
    if (!(await store.endpoints.claimDisable(endpoint.id))) return NOT_DISABLED;
    try {
      return await this.disableClaimed(endpoint.id, reason, detail);
    } finally {
      await store.endpoints.releaseDisable(endpoint.id);
    }
  }

  /**
   * Marks the endpoint disabled, logs and announces it, then ends its open deliveries: here, or on
   * the subscriber's chain (`endings`), which may run them after this returns. Announced before the
   * ending so that an ending left to admission (a chain full, a worker stopping) still announces once.
   */
  private async disableClaimed(id: string, reason: DisableReason, detail: string): Promise<DisableResult> {
    const { store, logger } = this.options;
    const now = this.options.now();
    const current = await store.endpoints.getSummary(id);
    if (!current || current.status === 'disabled') return NOT_DISABLED;
    // Only the status fields change: an endpoint whose secret cannot be read can still be disabled.
    const disabled = await store.endpoints.update(id, {
      status: 'disabled',
      disabledReason: `${reason}: ${detail}`,
      disabledAt: now,
      updatedAt: now,
    });
    if (!disabled) return NOT_DISABLED;
    logger.warn({ endpointId: id, reason, detail }, 'endpoint.disabled');
    const payload = { endpointId: disabled.id, url: disabled.url, reason, detail, disabledAt: new Date(now).toISOString() };
    // To the subscriber's other endpoints that take it (this one is disabled now).
    await this.options.publisher.publish(disabled.subscriberId, [{ type: 'endpoint.disabled', payload }]);

    const result = { disabled: true, read: 0, ended: 0 };
    const ending: Ending = async (more) => {
      const { read, ended } = await this.failOpenDeliveries(id, async () => (await more()) && (await this.stillDisabled(id, now)));
      Object.assign(result, { read, ended });
    };
    if (!this.options.endings) await ending(async () => true);
    else if (!this.options.endings.add(disabled.subscriberId, id, ending))
      logger.info({ endpointId: id }, 'endpoint.disable_ending_left_to_admission');
    return result;
  }

  /** Still disabled by the disable made at `disabledAt`: one re-enabled meanwhile keeps its deliveries. */
  private async stillDisabled(id: string, disabledAt: number): Promise<boolean> {
    const current = await this.options.store.endpoints.getSummary(id);
    return current?.status === 'disabled' && current.disabledAt === disabledAt;
  }

  /**
   * Open deliveries to a disabled endpoint end now, rather than whenever their retry comes due.
   * They are found from the scheduler's keys of this endpoint (LaneStore.openOf), so the work is
   * what the endpoint has open: its history, which a filter by status would have to read through
   * (up to 200,000 records for an endpoint with a long one), is never read. A chunk at a time, read
   * and ended, `more` asked before each (the chain's pause, and whether to go on).
   */
  private async failOpenDeliveries(id: string, more: () => Promise<boolean>): Promise<{ read: number; ended: number }> {
    const chunk = this.options.endedTogether ?? ENDED_TOGETHER;
    let count = 0;
    let read = 0;
    while (read < MAX_ENDED_BY_DISABLE) {
      if (!(await more())) break;
      // Each chunk ended leaves the scheduler, so the next read starts where this one stopped.
      const ids = await this.options.store.lanes.openOf(id, Math.min(chunk, MAX_ENDED_BY_DISABLE - read));
      if (ids.length === 0) break;
      read += ids.length;
      const ended = await this.failDeliveries(ids);
      // Counted as each chunk ends: an attempt in flight leaves the count to whoever ended it.
      this.options.metrics.deliveries.inc({ outcome: 'disabled' }, ended);
      count += ended;
    }
    return { read, ended: count };
  }

  /**
   * Fails the open ones among `ids` and takes every one out of the scheduler (one whose event
   * expired has no record to fail, and goes too), in one script call; returns how many it failed.
   * A transaction per delivery and a forget call per delivery, 500 of each at once, made ending
   * 10,000 take ~190,000 Redis commands and 2.5-4.7 s of the API process.
   */
  private async failDeliveries(ids: readonly string[]): Promise<number> {
    const { store } = this.options;
    const open = (await store.deliveries.getMany(ids)).filter((d) => d.state === 'pending' || d.state === 'retrying');
    return store.deliveries.endOpen(open, ids, 'endpoint_disabled');
  }
}
