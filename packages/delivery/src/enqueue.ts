import type { Endpoint, StoredEvent } from '@hookrelay/contracts';
import type { EventWrite, NewDelivery, Store } from '@hookrelay/store';

export interface EnqueueDeps {
  store: Store;
}

export interface EventFanOut {
  event: StoredEvent;
  /** Where it goes: only the ids are read (a summary will do, no secret is needed). */
  endpoints: readonly Pick<Endpoint, 'id'>[];
  /** The idempotency key's Redis key and the request's digest (publishEvents). */
  idempotency?: { key: string; digest: string };
}

/** One caller's share of a transaction: one group (all or nothing) in create-event.lua. */
interface Share {
  items: readonly EventFanOut[];
  deliveries: number;
  resolve(written: EventWrite[]): void;
  reject(err: unknown): void;
}

/** A transaction being gathered, per store. */
interface Gathering {
  shares: Share[];
  deliveries: number;
}

/** A transaction stops taking more callers at this many deliveries; later ones start the next. */
const GROUP_DELIVERIES = 5000;
const gathering = new WeakMap<Store, Gathering>();

/**
 * Records events and one delivery per (event, endpoint), each delivery put at the tail of its
 * endpoint's lane in the scheduler, in ONE Redis transaction (create-event.lua): either all of it is
 * there or none of it is, so an accepted event can never be left recorded but not scheduled. The
 * workers' admission pumps turn lanes into BullMQ jobs, in fair order (docs/delivery-scheduling.md).
 *
 * Calls made while the event loop is busy with other requests share that transaction (a group
 * commit, run once the loop turns): under load the per-transaction costs (ioredis builds a
 * pipeline object per MULTI, ~35 us here; MULTI/EXEC in Redis) are paid once for many publishes.
 * Each caller still resolves only once its own writes are in.
 *
 * A pair (event, endpoint) that has a delivery already is not recorded or scheduled again, so
 * enqueueing a pair twice (a replay, a caller retrying) delivers once.
 */
export async function enqueueEvents(deps: EnqueueDeps, items: readonly EventFanOut[]): Promise<NewDelivery[][]> {
  const written = await publishEvents(deps, items);
  return written.map((w) => (w.kind === 'new' ? w.deliveries : []));
}

/**
 * enqueueEvents for a publish: each event's idempotency key is taken with the event, in the same
 * script, and the caller's events are one group, written all or none (create-event.lua). Returns,
 * per event, what was written (a repeat names the event that holds its key).
 */
export async function publishEvents(deps: EnqueueDeps, items: readonly EventFanOut[]): Promise<EventWrite[]> {
  if (items.length === 0) return [];
  const deliveries = items.reduce((n, { endpoints }) => n + endpoints.length, 0);
  return new Promise((resolve, reject) => {
    let group = gathering.get(deps.store);
    if (!group || group.deliveries >= GROUP_DELIVERIES) {
      const fresh: Gathering = { shares: [], deliveries: 0 };
      gathering.set(deps.store, fresh);
      setImmediate(() => {
        if (gathering.get(deps.store) === fresh) gathering.delete(deps.store);
        void commit(deps.store, fresh.shares);
      });
      group = fresh;
    }
    group.shares.push({ items, deliveries, resolve, reject });
    group.deliveries += deliveries;
  });
}

async function commit(store: Store, shares: readonly Share[]): Promise<void> {
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

/** The library entry point for one (event, endpoint) pair; safe to call twice for the same pair. */
export async function enqueueDelivery(deps: EnqueueDeps, event: StoredEvent, endpoint: Pick<Endpoint, 'id'>): Promise<NewDelivery> {
  const [[delivery] = []] = await enqueueEvents(deps, [{ event, endpoints: [endpoint] }]);
  if (!delivery) throw new Error('enqueueEvents returned no delivery');
  return delivery;
}
