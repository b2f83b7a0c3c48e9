import type { Request } from 'express';
import type { Page } from '@hookrelay/store';
import type { InFlightPerSubscriber } from './subscriber-limits';
import { admitWork, chargeWork, storedKbCost, type ChargeWork, type WorkBudgetDeps } from './work-budget';

export interface RecordListingBudgetOptions {
  /** How long this process asks the budget before each page of a subscriber whose last page was heavy. @defaultValue 10 min */
  rememberMs?: number;
  /** Subscribers remembered at most (the oldest are forgotten first). @defaultValue 10,000 */
  maxRemembered?: number;
}

/**
 * The work budget for listings whose pages read whole records (endpoints, sources). A page is free
 * up to FREE_READS.storedKb of stored JSON, as a read of one record is; beyond it the page is charged
 * a unit per KB (1,024 characters) of the excess: a page of 100 endpoints of ~35 KB is ~3.4 MB to
 * read, parse and write (~7 ms of the API), which the in-flight places bounded at a time but not over
 * time, so two loops of such pages held most of an API process.
 *
 * A page's size is known only once it is read. So a subscriber's first heavy page in this process
 * is read, answered and charged, into debt if need be; from then on, for `rememberMs` after its
 * last heavy page, each of its pages (endpoints or sources, heavy or not) asks the budget before it
 * is read, and is refused (nothing read) while it is spent. A light page of a subscriber not
 * remembered makes no budget call. The mark is not cleared by a light page: alternating light and
 * heavy pages would otherwise have every heavy one read unasked.
 */
export class RecordListingBudget {
  /** Subscribers whose last page here was heavy, and until when; a Map keeps insertion order. */
  private readonly heavy = new Map<string, number>();
  private readonly rememberMs: number;
  private readonly maxRemembered: number;

  constructor(
    private readonly deps: WorkBudgetDeps,
    /** The places listings that read many records share (heavyListingsPerSubscriber): a page holds one while it reads. */
    private readonly heavyListings: InFlightPerSubscriber,
    options: RecordListingBudgetOptions = {},
  ) {
    this.rememberMs = options.rememberMs ?? 10 * 60_000;
    this.maxRemembered = options.maxRemembered ?? 10_000;
  }

  /**
   * Reads a page with `read`, charges it by size and answers it with `answer`, holding one of the
   * heavy-listing places throughout (429 listings_in_flight naming `limit`): the page's records are
   * read, parsed and written out whole. 429 work_budget_exhausted before anything is read when this
   * subscriber's pages are known heavy and its budget is spent.
   */
  async answerPage<P extends Page<unknown>>(
    req: Request,
    subscriberId: string,
    read: () => Promise<P>,
    answer: (page: P) => Promise<void> | void,
  ): Promise<void> {
    const release = this.heavyListings.take(subscriberId, 'limit');
    try {
      const until = this.heavy.get(subscriberId);
      const known = until !== undefined && until > this.deps.now();
      const charge: ChargeWork | undefined = known ? await admitWork(this.deps, req, subscriberId) : undefined;
      const page = await read();
      const units = pageCost(page.storedChars ?? 0);
      if (units > 0) {
        this.remember(subscriberId);
        // Not known heavy: the page was read unasked, and is paid for, whatever the balance.
        if (charge) await charge(units);
        else await chargeWork(this.deps, req, subscriberId, units);
      }
      await answer(page);
    } finally {
      release();
    }
  }

  private remember(subscriberId: string): void {
    this.heavy.delete(subscriberId);
    if (this.heavy.size >= this.maxRemembered) {
      const oldest = this.heavy.keys().next();
      if (!oldest.done) this.heavy.delete(oldest.value);
    }
    this.heavy.set(subscriberId, this.deps.now() + this.rememberMs);
  }
}

/** Units for a page that read `storedChars` characters of stored JSON (characters, not bytes: measuring bytes costs ~110 us a MiB). */
export function pageCost(storedChars: number): number {
  return storedKbCost(Math.ceil(storedChars / 1024));
}
