import type { EventToWrite, EventWrite, Store } from '@hookrelay/store';

/** One caller's share of a transaction: one group (all or nothing) in create-event.lua. */
interface Share {
  items: readonly EventToWrite[];
  deliveries: number;
  resolve(written: EventWrite[]): void;
  reject(err: unknown): void;
}

/** A transaction being gathered. */
interface Gathering {
  shares: Share[];
  deliveries: number;
}

export interface GroupCommitOptions {
  store: Store;
  /** A transaction takes no caller that would bring it over this many deliveries; that one starts the next. @defaultValue 5000 */
  maxDeliveries?: number;
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
  private readonly maxDeliveries: number;

  constructor(private readonly options: GroupCommitOptions) {
    this.maxDeliveries = options.maxDeliveries ?? 5000;
  }

  /** Per item, what was written (a repeat names the event that holds its idempotency key). */
  async write(items: readonly Omit<EventToWrite, 'group'>[]): Promise<EventWrite[]> {
    if (items.length === 0) return [];
    const deliveries = items.reduce((n, { endpoints }) => n + endpoints.length, 0);
    return new Promise((resolve, reject) => {
      let group = this.gathering;
      // A caller that would take the transaction over the cap starts the next one (alone, if it is
      // over the cap by itself): Redis runs a transaction alone, so its size is everyone's wait.
      if (!group || (group.deliveries > 0 && group.deliveries + deliveries > this.maxDeliveries)) {
        const fresh: Gathering = { shares: [], deliveries: 0 };
        this.gathering = fresh;
        setImmediate(() => {
          if (this.gathering === fresh) this.gathering = undefined;
          void this.commit(fresh.shares);
        });
        group = fresh;
      }
      group.shares.push({ items, deliveries, resolve, reject });
      group.deliveries += deliveries;
    });
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
