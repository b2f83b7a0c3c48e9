import type { EventToWrite, EventWrite, Store } from '@hookrelay/store';

/** One caller's share of a transaction: one group (all or nothing) in create-event.lua. */
interface Share {
  items: readonly EventToWrite[];
  size: CommitSize;
  resolve(written: EventWrite[]): void;
  reject(err: unknown): void;
}

/** What a transaction holds, each bounded (GroupCommitOptions). */
interface CommitSize {
  deliveries: number;
  events: number;
  /** Characters of payload JSON (a replay's summary carries none). */
  payloadChars: number;
}

/** A transaction being gathered. */
interface Gathering {
  shares: Share[];
  size: CommitSize;
}

export interface GroupCommitOptions {
  store: Store;
  /** A transaction takes no caller that would bring it over this many deliveries; that one starts the next. @defaultValue 5000 */
  maxDeliveries?: number;
  /** Nor over this many events (a subscriber with no endpoints for its events adds no deliveries). @defaultValue 1000 */
  maxEvents?: number;
  /** Nor over this many characters of payload JSON: four events of 1 MiB. @defaultValue 4 Mi */
  maxPayloadChars?: number;
}

/**
 * Writes events and their deliveries (`DeliveryStore.writeEvents`, one Redis transaction), sharing
 * that transaction among the calls made while the event loop is busy with other requests: it runs
 * once the loop turns, so under load the per-transaction costs (ioredis builds a pipeline object
 * per MULTI, ~35 us here; MULTI/EXEC in Redis) are paid once for many publishes. Each caller's
 * events stay one group, written all or none, and each caller resolves only once its own writes
 * are in (or rejects with the transaction's error).
 */
export class GroupCommit {
  private gathering: Gathering | undefined;
  private readonly limits: CommitSize;

  constructor(private readonly options: GroupCommitOptions) {
    this.limits = {
      deliveries: options.maxDeliveries ?? 5000,
      events: options.maxEvents ?? 1000,
      payloadChars: options.maxPayloadChars ?? 4 * 1024 * 1024,
    };
  }

  /** Per item, what was written (a repeat names the event that holds its idempotency key). */
  async write(items: readonly Omit<EventToWrite, 'group'>[]): Promise<EventWrite[]> {
    if (items.length === 0) return [];
    const size = sizeOf(items);
    return new Promise((resolve, reject) => {
      let group = this.gathering;
      // A caller that would take the transaction over a bound starts the next one (alone, if it is
      // over by itself): Redis runs a transaction alone, so its size is everyone's wait, and one
      // subscriber's large or many events must not make other subscribers' publishes wait for them.
      if (!group || (group.shares.length > 0 && this.wouldOverflow(group.size, size))) {
        const fresh: Gathering = { shares: [], size: { deliveries: 0, events: 0, payloadChars: 0 } };
        this.gathering = fresh;
        setImmediate(() => {
          if (this.gathering === fresh) this.gathering = undefined;
          void this.commit(fresh.shares);
        });
        group = fresh;
      }
      group.shares.push({ items, size, resolve, reject });
      group.size.deliveries += size.deliveries;
      group.size.events += size.events;
      group.size.payloadChars += size.payloadChars;
    });
  }

  private wouldOverflow(held: CommitSize, more: CommitSize): boolean {
    return (
      held.deliveries + more.deliveries > this.limits.deliveries ||
      held.events + more.events > this.limits.events ||
      held.payloadChars + more.payloadChars > this.limits.payloadChars
    );
  }

  private async commit(shares: readonly Share[]): Promise<void> {
    const { store } = this.options;
    try {
      const items = shares.flatMap((share, group) => share.items.map((item) => ({ ...item, group })));
      const results = await store.deliveries.writeEvents(items, { idempotencyTtlMs: store.idempotency.ttlMs });
      let at = 0;
      for (const share of shares) {
        share.resolve(results.slice(at, at + share.items.length));
        at += share.items.length;
      }
    } catch (err) {
      for (const share of shares) share.reject(err);
    }
  }
}

function sizeOf(items: readonly Omit<EventToWrite, 'group'>[]): CommitSize {
  let deliveries = 0;
  let payloadChars = 0;
  for (const { event, endpoints } of items) {
    deliveries += endpoints.length;
    if ('payload' in event) payloadChars += event.payload.length;
  }
  return { deliveries, events: items.length, payloadChars };
}
