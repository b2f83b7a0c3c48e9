import { newId, type DeliveryRecord, type Endpoint, type EndpointSummary, type StoredEvent } from '@hookrelay/contracts';
import {
  HISTORY_CLOCK_SLACK_MS,
  REOPENED_PER_CALL,
  type EventSummary,
  type EventWrite,
  type NewDelivery,
  type Store,
} from '@hookrelay/store';
import { GroupCommit } from './group-commit';
import { requestDigest } from './request-digest';
import { routerOf } from './type-router';

/** An event to publish: its type and payload already validated by the caller. */
export interface EventInput {
  type: string;
  payload?: unknown;
  idempotencyKey?: string;
}

/**
 * A request's events would create more deliveries than the caller allows (PublishOptions.maxDeliveries).
 * Nothing was written.
 */
export class FanOutLimitError extends Error {
  constructor(
    readonly deliveries: number,
    readonly limit: number,
  ) {
    super(`the events would create ${deliveries} deliveries, more than the ${limit} allowed in one request`);
    this.name = 'FanOutLimitError';
  }
}

/**
 * The most work finding a request's endpoints may take, in TypeRouter steps (a pattern checked, a
 * segment compared, an endpoint marked for a new type), when it holds two or more events: a few ms
 * here (a batch of 200 new types to 10,000 endpoints, ~50 ms, is about the most it lets through).
 * A subscriber's usual types and patterns take a few hundred steps a type, once per type; an event
 * of a type not seen before, against 10,000 patterns of 100 segments that all could match, up to a
 * million. One event is never refused (it costs what a single publish costs).
 */
export const MAX_ROUTING_STEPS = 2_000_000;

/**
 * What a write would add takes its subscriber over the bytes it may keep written within the
 * retention period (PublisherOptions.storedBytesLimit, or the admin's own for it). Nothing was
 * written. `waitMs` until enough of what it wrote has outlived the retention period; -1 never (the
 * write alone is over the limit).
 */
export class StoredBytesError extends Error {
  readonly usedBytes: number;
  readonly limitBytes: number;
  readonly waitMs: number;

  constructor(over: { usedBytes: number; limitBytes: number; waitMs: number }) {
    super(`the subscriber has written ${over.usedBytes} of the ${over.limitBytes} bytes it may keep within the retention period`);
    this.name = 'StoredBytesError';
    this.usedBytes = over.usedBytes;
    this.limitBytes = over.limitBytes;
    this.waitMs = over.waitMs;
  }
}

/** Finding the endpoints of a request's events took more than MAX_ROUTING_STEPS. Nothing was written. */
export class RoutingLimitError extends Error {
  constructor(
    /** The inputs routed when the limit was passed. */
    readonly routed: number,
  ) {
    super(`matching the first ${routed} events' types against the endpoints' eventTypes took more than ${MAX_ROUTING_STEPS} steps`);
    this.name = 'RoutingLimitError';
  }
}

/**
 * The most an event's payload may be as stored JSON, whatever published it. A request body is at
 * most 1 MB, but a source's `text` or `form` body becomes JSON on the way: 1 MB of control bytes
 * was a 7.3 MB event, read whole by every GET of it and sent whole on every attempt.
 */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/** An input's payload is larger, as JSON, than MAX_PAYLOAD_BYTES. Nothing was written. */
export class PayloadTooLargeError extends Error {
  constructor(
    /** Which of the request's inputs. */
    readonly index: number,
    readonly bytes: number,
  ) {
    super(`the payload is ${bytes} bytes as JSON, more than the ${MAX_PAYLOAD_BYTES} allowed`);
    this.name = 'PayloadTooLargeError';
  }
}

/**
 * Log entries one recover request reads at most, over all its pages (each entry loads its
 * delivery's record). It was 50 pages of up to 5,000 entries each: `{"since":0}` on an endpoint
 * with 255,000 deliveries, none failed, read them all (18.3 s, 1,263,056 Redis commands, 2.9 s of
 * Redis CPU).
 */
export const RECOVER_SCAN_BUDGET = 50_000;

/** What a recover did, and whether it reached the start of its window. */
export interface RecoverResult {
  /** Failed deliveries queued again. */
  recovered: number;
  /** False when the scan budget ran out before `since`: older failures may be left. */
  complete: boolean;
  /** When not complete: pass it back (same window) to go on from where the scan stopped. */
  nextCursor?: string;
  /** Log entries read (and their deliveries loaded): what the call cost, for the work budget. */
  scanned: number;
}

export interface PublishOptions {
  /**
   * Refuse (FanOutLimitError, nothing written) two or more inputs whose deliveries, every input to
   * its matching endpoints, number more than this. A request's events are one transaction, and
   * Redis runs a transaction alone: 100,000 deliveries held every other caller for ~2 s (docs/api.md
   * "Limits"). One input is never refused: it costs what a single publish costs, which keeps its
   * full fan-out (the endpoint quota bounds it). @defaultValue no limit
   */
  maxDeliveries?: number;
  /**
   * Runs once the inputs passed `maxDeliveries`, before anything is written; a rejection writes
   * nothing. For the caller's publish rate, so a refused request takes none of it.
   */
  beforeWrite?: () => Promise<void>;
  /**
   * Runs before the idempotency digests of the keyed inputs are computed (once a publish, before
   * `beforeWrite`), given the length of their payloads as JSON; a rejection writes nothing. What it
   * returns is called, before the answer, with the length of those whose input then wrote nothing:
   * its key `reused`, `skipped` with it, a `repeat` (answered from the key) or the publish refused
   * for stored bytes, and whether any of them was refused (not only a repeat, a client's retry).
   * For the caller's work budget: a digest of ~0.8 MB of small objects took an audit 29-66 ms, and
   * a publish that stores nothing is charged for nothing else (the stored bytes count only what is
   * written). @defaultValue none (never refused, nothing charged)
   */
  admitDigests?: (payloadChars: number) => Promise<(unwrittenChars: number, refused: boolean) => Promise<void>>;
}

/** An event and where it goes. */
export interface EventFanOut {
  event: StoredEvent;
  /** Only the ids are read (a summary will do, no secret is needed). */
  endpoints: readonly Pick<Endpoint, 'id'>[];
}

/** What one publish does once, however many writes it takes: its rate taken, its inputs' digests. */
interface PublishOnce {
  admitted: boolean;
  digests: string[];
  /** What admitDigests returned, once the digests were admitted. */
  chargeDigests?: (unwrittenChars: number, refused: boolean) => Promise<void>;
}

/** One published input: the event built for it and what writing it did. */
export interface Published extends EventFanOut {
  write: EventWrite;
}

export interface PublisherOptions {
  store: Store;
  /** Stamps new events (their id and createdAt). @defaultValue Date.now */
  now?: () => number;
  /** See GroupCommitOptions.maxDeliveries. @defaultValue 5000 */
  maxDeliveriesPerCommit?: number;
  /**
   * The bytes a subscriber may keep written within the retention period, unless the admin set its
   * own (EventToWrite.storedBytesLimit): a publish, replay or enqueue that would take it over
   * writes nothing and is answered `stored`. @defaultValue not checked (what is written is counted)
   */
  storedBytesLimit?: number;
}

/**
 * Publishing: claim each event's idempotency key, write the event and enqueue one delivery per
 * (event, endpoint) into its endpoint's lane, in one Redis transaction shared by the calls of one
 * event-loop turn (GroupCommit, create-event.lua): an accepted event is never left recorded but
 * not scheduled. The workers' admission pumps turn lanes into jobs (docs/delivery-scheduling.md).
 * A pair (event, endpoint) that has a delivery already is not written or scheduled again, so
 * enqueueing a pair twice (a replay, a caller retrying) delivers once.
 *
 * Used by the API (publishes, replays, retries, recovers) and by the worker's operational events
 * (`endpoint.disabled`). One instance per process: its group commit is per instance.
 */
export class Publisher {
  private readonly store: Store;
  private readonly now: () => number;
  private readonly commits: GroupCommit;
  private readonly storedBytesLimit: number | undefined;

  constructor(options: PublisherOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.storedBytesLimit = options.storedBytesLimit;
    this.commits = new GroupCommit({ store: options.store, maxDeliveries: options.maxDeliveriesPerCommit });
  }

  /**
   * New events for a subscriber, each fanned out to its active endpoints whose filters match, with
   * its idempotency key (stored with the request's digest); the inputs are one group, written all
   * or none. Per input: the event and `new` (its deliveries), `repeat` (its key names an earlier
   * event of the same request: nothing written), `reused` (its key names another request's event)
   * or `skipped` (another input was `reused`).
   */
  async publish(subscriberId: string, inputs: readonly EventInput[], options: PublishOptions = {}): Promise<Published[]> {
    const once: PublishOnce = { admitted: false, digests: [] };
    // A single event usually goes to the endpoints an earlier publish read, kept in this process:
    // the write checks that they have not changed since (create-event.lua), which saves asking
    // first, a round trip a publish. When they have changed, or none are kept, they are read before
    // the write, as a first publish always did, and that write takes them as read: at most two
    // writes a publish (a stale write has sent its payload for nothing: once per endpoint change,
    // for the publishes under way). Two or more events are always routed on a fresh read: their fan-out and
    // routing limits must not be judged on an old list (endpoints disabled since would refuse the
    // batch before its write could find the list stale), nor the rate be taken before a refusal.
    const kept = inputs.length === 1 ? this.store.endpoints.lastListed(subscriberId) : undefined;
    if (kept) {
      // Kept before this stamp: they hold no endpoint created after it, and the version check
      // that none was deleted before the write.
      const published = await this.publishTo(subscriberId, inputs, options, once, this.now(), kept);
      if (published) return published;
    }
    const now = this.now();
    const endpoints = await this.store.endpoints.listAll(subscriberId);
    // The history looks an event's deliveries up among the endpoints alive around its stamp
    // (HistoryStore, within a clock allowance). Stamped before the read, no endpoint deleted before
    // the stamp is in it; a read that outlasted the allowance may hold endpoints created after the
    // stamp, which are noted with the event before its deliveries are written (publishTo).
    const slowRead = this.now() - now > HISTORY_CLOCK_SLACK_MS;
    const published = await this.publishTo(subscriberId, inputs, options, once, now, { endpoints, slowRead });
    if (!published) throw new Error('the store found a fan-out stale that was not checked');
    return published;
  }

  /**
   * The inputs as events stamped `now`, each to the endpoints of `fanOut` its type matches, checked
   * and written as one group. Null, with nothing written, when `fanOut.version` was given and the
   * subscriber's endpoints have changed since it.
   */
  private async publishTo(
    subscriberId: string,
    inputs: readonly EventInput[],
    options: PublishOptions,
    once: PublishOnce,
    now: number,
    fanOut: { endpoints: readonly EndpointSummary[]; version?: string; slowRead?: boolean },
  ): Promise<Published[] | null> {
    const router = routerOf(fanOut.endpoints);
    const cost = { steps: 0 };
    const items = inputs.map((input, index) => {
      const event: StoredEvent = {
        id: newId('evt', now),
        subscriberId,
        type: input.type,
        // An input without a payload publishes null: JSON.stringify(undefined) is no JSON at all.
        payload: JSON.stringify(input.payload ?? null),
        createdAt: now,
      };
      const endpoints = router.route(event.type, cost);
      if (inputs.length > 1 && cost.steps > MAX_ROUTING_STEPS) throw new RoutingLimitError(index + 1);
      return { event, endpoints };
    });
    for (const [index, { event }] of items.entries()) {
      const bytes = Buffer.byteLength(event.payload);
      if (bytes > MAX_PAYLOAD_BYTES) throw new PayloadTooLargeError(index, bytes);
    }
    const deliveries = items.reduce((n, item) => n + item.endpoints.length, 0);
    if (options.maxDeliveries !== undefined && items.length > 1 && deliveries > options.maxDeliveries)
      throw new FanOutLimitError(deliveries, options.maxDeliveries);
    const keyed = (i: number) => Boolean(inputs[i]?.idempotencyKey);
    const charsOf = (keep: (i: number) => boolean) => items.reduce((n, item, i) => (keep(i) ? n + item.event.payload.length : n), 0);
    // Once, though a stale fan-out writes twice (a single event's, which no limit here refuses).
    // The digests' admission first: a request it refuses takes none of the rate.
    if (!once.admitted) {
      const chars = charsOf(keyed);
      if (chars > 0) once.chargeDigests = await options.admitDigests?.(chars);
      await options.beforeWrite?.();
      once.admitted = true;
    }
    // Digests after the checks and the rate: a 1 MB payload's takes up to ~100 ms, which a request
    // refused for its size, its fan-out or the rate must not cost the shared process.
    const toWrite = items.map((item, i) => {
      const input = inputs[i]!;
      const key = input.idempotencyKey;
      const limited = this.limited(item);
      const checked = fanOut.version === undefined ? limited : { ...limited, endpointsVersion: fanOut.version };
      if (!key) return checked;
      once.digests[i] ??= requestDigest(input);
      return { ...checked, idempotency: { key: this.store.idempotency.keyOf(subscriberId, key), digest: once.digests[i] } };
    });
    if (fanOut.slowRead)
      for (const { event, endpoints } of items)
        await this.store.history.noteLateTargets(
          event,
          endpoints.map((e) => e.id),
        );
    const written = await this.commits.write(toWrite);
    if (written.some((w) => w.kind === 'stale')) return null;
    // A keyed input that wrote nothing cost its digest, and the store counted nothing for it.
    const unwritten = charsOf((i) => keyed(i) && written[i]?.kind !== 'new');
    // Refused (a reused key, the storage quota), not only answered from its key (a repeat).
    const refused = written.some((w, i) => keyed(i) && w.kind !== 'new' && w.kind !== 'repeat');
    if (unwritten > 0) await once.chargeDigests?.(unwritten, refused);
    const over = written.find((w) => w.kind === 'stored');
    if (over) throw new StoredBytesError(over);
    return items.map(({ event, endpoints }, i) => {
      const write = written[i];
      if (!write) throw new Error('the store answered fewer events than it was given');
      return { event, endpoints, write };
    });
  }

  /** An item to write, with the stored-bytes limit it is written under. */
  private limited<T extends EventFanOut | Omit<EventFanOut, 'event'>>(item: T): T & { storedBytesLimit?: number } {
    return this.storedBytesLimit === undefined ? item : { ...item, storedBytesLimit: this.storedBytesLimit };
  }

  /**
   * Events already built, to the endpoints given, without idempotency keys: per event, its
   * deliveries (none for an event over its subscriber's stored bytes, which is not written).
   */
  async enqueue(items: readonly EventFanOut[]): Promise<NewDelivery[][]> {
    const written = await this.commits.write(items.map((item) => this.limited(item)));
    return written.map((w) => (w.kind === 'new' ? w.deliveries : []));
  }

  /**
   * Delivers an event again to the given endpoints: a new delivery for an endpoint that never had
   * one (say, created after the event), one more attempt for an ended one; in-flight ones are left.
   */
  async replay(event: EventSummary, endpoints: readonly Pick<Endpoint, 'id'>[]): Promise<{ created: string[]; requeued: string[] }> {
    // Noted before the deliveries are written: a note without its delivery finds nothing, while a
    // delivery without its note would go unlisted once its endpoint is deleted.
    await this.store.history.noteLateTargets(
      event,
      endpoints.map((e) => e.id),
    );
    // The event is stored already: its summary (never its payload, whatever the caller passed)
    // writes its new deliveries without sending it again.
    const { id, subscriberId, type, createdAt } = event;
    const [write] = await this.commits.write([this.limited({ event: { id, subscriberId, type, createdAt }, endpoints })]);
    if (write?.kind === 'stored') throw new StoredBytesError(write);
    const results = write?.kind === 'new' ? write.deliveries : [];
    const created = results.filter((d) => d.created).map((d) => d.id);
    const existing = await this.store.deliveries.getMany(results.filter((d) => !d.created).map((d) => d.id));
    const requeued = await this.redeliver(existing, true);
    return { created, requeued };
  }

  /**
   * Re-opens ended deliveries (failed, or delivered too when `includeDelivered`) and queues one
   * attempt each, asked for by a person. Re-opening and queueing are one atomic step per delivery
   * (reopen-deliveries.lua), only from the state the caller read (same attempt count), so two
   * overlapping calls queue each delivery once and a stale read queues nothing. Returns the ids queued.
   */
  async redeliver(deliveries: readonly DeliveryRecord[], includeDelivered: boolean): Promise<string[]> {
    const from = includeDelivered ? (['failed', 'delivered'] as const) : (['failed'] as const);
    return this.store.deliveries.reopen(deliveries, from);
  }

  /**
   * Every failed delivery to an endpoint in a time window, queued again (Svix's recover), newest
   * first, reading at most `scanBudget` entries of the endpoint's log for the whole call. Each page
   * of failures found is reopened before the next is read, so what is held and what one Redis
   * call moves stay bounded (DeliveryStore.reopen). When the budget ends the scan before `since`,
   * the result says so, with the cursor that goes on from where it stopped.
   */
  async recover(
    endpoint: Pick<Endpoint, 'id' | 'subscriberId'>,
    window: { since: number; until?: number; cursor?: string },
    options: { scanBudget?: number } = {},
  ): Promise<RecoverResult> {
    const budget = options.scanBudget ?? RECOVER_SCAN_BUDGET;
    let left = budget;
    let cursor = window.cursor;
    let recovered = 0;
    while (left > 0) {
      const page = await this.store.history.listDeliveries(endpoint.subscriberId, {
        endpointId: endpoint.id,
        status: 'failed',
        since: window.since,
        until: window.until,
        cursor,
        limit: REOPENED_PER_CALL,
        maxScanned: left,
      });
      left -= page.scanned;
      recovered += (await this.redeliver(page.items, false)).length;
      if (!page.nextCursor) return { recovered, complete: true, scanned: budget - left };
      cursor = page.nextCursor;
    }
    return { recovered, complete: false, nextCursor: cursor, scanned: budget - left };
  }
}
