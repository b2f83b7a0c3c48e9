import type { Request } from 'express';
import type { InFlightPerSubscriber } from './subscriber-limits';
import { admitWork, WORK_COSTS, type WorkBudgetDeps } from './work-budget';

/**
 * A page of a listing that, with `filter` (what the 429 names: `status`, `type`, `outcome`...), may
 * read far more than it shows: it then holds one of the subscriber's heavy-listing places while it
 * reads, is checked against the work budget before and charged a unit per entry it read after.
 * Unfiltered it reads what it shows, and is neither placed nor charged (never refused).
 */
export async function readListingPage<P>(
  deps: WorkBudgetDeps,
  req: Request,
  subscriberId: string,
  heavyListings: InFlightPerSubscriber,
  filter: string | undefined,
  read: () => Promise<P>,
  entriesRead: (page: P) => number,
): Promise<P> {
  if (!filter) return read();
  const release = heavyListings.take(subscriberId, filter);
  try {
    const charge = await admitWork(deps, req, subscriberId);
    const page = await read();
    await charge(entriesRead(page) * WORK_COSTS.recordRead);
    return page;
  } finally {
    release();
  }
}
