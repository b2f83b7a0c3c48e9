import type { Request } from 'express';
import type { Store } from '@hookrelay/store';
import { principalOf } from './auth';
import { AppError } from './errors';
import type { SubscriberLimitsReader } from './subscriber-limits';

/**
 * What each kind of work costs, in units of about one record read (~10 us of Redis; an audit's
 * recover read 52,000 deliveries in 0.53 s of Redis CPU, a filtered listing 5,000 in ~45 ms).
 */
export const WORK_COSTS = Object.freeze({
  /** A log entry or record read: a listing's scanned entries, a recover's. */
  recordRead: 1,
  /** A delivery reopened (retry, recover) or written (a replay to one endpoint): ~12 commands and a job. */
  deliveryWritten: 10,
  /**
   * A test send: its event, delivery and attempt (~14 KB) stay in Redis for the retention period.
   * At the default refill, five a second, ~250 MB an hour at most (an audit made 215 a second, ~11 GB an hour).
   */
  testSend: 1000,
  /**
   * A KB of stored JSON read and answered whole (an event's payload, a delivery's attempts, a page
   * of endpoints or sources: RecordListingBudget) beyond FREE_READS.storedKb. An audit: a 1 MiB payload took 6.6 ms of the API and 0.9 ms of Redis
   * (~7.5 ms, 0.7 unit a KB), 618 KB of attempts 6.5 ms of the API (~1 unit a KB).
   */
  kbAnswered: 1,
  /**
   * A KB of a keyed publish's payload (as JSON) digested for its idempotency key, beyond
   * FREE_DIGEST_KB, when the publish then wrote nothing (admitDigests). The digest walks the
   * payload's objects: ~0.8 MB of small ones took an audit 29-66 ms, and 40-50 us a KB here at
   * worst (small objects with unsorted or index-like keys), ~2 us a KB for one long string.
   */
  kbDigested: 5,
});

/**
 * What one read of a record (an event, a delivery) does free: never charged, never refused and no
 * budget call, even in debt, as an unfiltered page of a listing. Beyond either, the whole excess is
 * charged (kbAnswered, recordRead a lookup) and the read is refused while the balance is not
 * positive. 64 KB is a payload or 6 attempts of the largest kind (~10 KB) or dozens of the usual
 * (~1 KB), ~0.5 ms of the API; 100 lookups an event to every endpoint of a subscriber at the
 * default quota (maxEndpoints), ~1 ms of Redis.
 */
export const FREE_READS = Object.freeze({ storedKb: 64, lookups: 100 });

/**
 * The keyed payloads, as JSON, a publish may have digested free: no budget call, never charged or
 * refused. 8 KB is most webhook payloads, and at most ~0.4 ms of digest.
 */
export const FREE_DIGEST_KB = 8;

/**
 * The units a read of one record costs: `stored`, the stored JSON it answers whole (its size in
 * UTF-8), `lookups`, the records it looks up. A string short enough to be free whatever it holds
 * (UTF-8 takes at most 3 bytes a UTF-16 unit) is not measured: Buffer.byteLength takes ~110 us a MiB.
 */
export function recordReadCost(read: { stored: string; lookups?: number }): number {
  const free = FREE_READS.storedKb * 1024;
  const kb = read.stored.length * 3 <= free ? 0 : Math.ceil(Buffer.byteLength(read.stored) / 1024);
  const lookups = read.lookups ?? 0;
  return storedKbCost(kb) + Math.max(0, lookups - FREE_READS.lookups) * WORK_COSTS.recordRead;
}

/** The units for `kb` of stored JSON read and answered whole: what is beyond FREE_READS.storedKb. */
export function storedKbCost(kb: number): number {
  return Math.max(0, kb - FREE_READS.storedKb) * WORK_COSTS.kbAnswered;
}

export class WorkBudgetError extends AppError {
  constructor(
    readonly perSecond: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      429,
      'work_budget_exhausted',
      `the subscriber has spent its work budget (limits.workUnitsPerSecond, ${perSecond} units a second: recovers, filtered listings, replays, retries, test sends, manual disables and reads of large events and deliveries are charged by the records they read and write, keyed publishes that store nothing by the payload digested); retry after ${retryAfterSeconds} s, or narrow the request (a shorter window, a cursor, fewer endpoints)`,
      [{ path: 'limits.workUnitsPerSecond', message: `${perSecond} units a second, about one per record read` }],
      { headers: { 'retry-after': String(retryAfterSeconds) } },
    );
  }
}

export type WorkBudgetDeps = { store: Store; subscriberLimits: SubscriberLimitsReader; now: () => number };

/** Charges the work it did after a heavy request; 0 units charges nothing. */
export type ChargeWork = (units: number) => Promise<void>;

const FREE: ChargeWork = async () => undefined;

/**
 * Before a heavy request of `subscriberId`'s: 429 work_budget_exhausted, with Retry-After in whole
 * seconds until its balance is positive again, when it has none. Returns how to charge the
 * request's actual cost after it, into debt if need be, so one large request is paid for by
 * waiting afterwards. Counted in Redis, so every API process shares one budget (the in-flight
 * places bound each process at a time; this bounds the work over time). Only the subscriber's own
 * keys and portal sessions are charged: the admin's and the platform's publisher keys are trusted.
 */
export async function admitWork(deps: WorkBudgetDeps, req: Request, subscriberId: string): Promise<ChargeWork> {
  if (!isCharged(req)) return FREE;
  const rate = await rateOf(deps, subscriberId);
  const verdict = await deps.store.workBudgets.check(subscriberId, rate, deps.now());
  if (verdict) throw new WorkBudgetError(rate.perSecond, Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
  return (units) => chargeRate(deps, subscriberId, rate, units);
}

/**
 * Charges work already done without asking first (into debt if need be): for work whose cost was
 * known only once it was done, and which must be paid for even when the budget was spent.
 */
export async function chargeWork(deps: WorkBudgetDeps, req: Request, subscriberId: string, units: number): Promise<void> {
  if (!isCharged(req) || units <= 0) return;
  await chargeRate(deps, subscriberId, await rateOf(deps, subscriberId), units);
}

function isCharged(req: Request): boolean {
  const role = principalOf(req).role;
  return role === 'subscriber' || role === 'session';
}

async function rateOf(deps: WorkBudgetDeps, subscriberId: string): Promise<{ perSecond: number; burst: number }> {
  const limits = await deps.subscriberLimits.of(subscriberId);
  return { perSecond: limits.workUnitsPerSecond, burst: limits.workUnitsBurst };
}

async function chargeRate(
  deps: WorkBudgetDeps,
  subscriberId: string,
  rate: { perSecond: number; burst: number },
  units: number,
): Promise<void> {
  if (units > 0) await deps.store.workBudgets.charge(subscriberId, units, rate, deps.now());
}

/**
 * The subscribers whose keyed publishes were refused lately, in this process: their next keyed
 * publishes over FREE_DIGEST_KB ask the work budget before they are digested (admitDigests). Only
 * they: asking every keyed publish refused a subscriber's backend its large keyed publishes, those
 * that would write too, whenever the budget was in debt for anything else (a recover, a portal
 * user's filtered listings), while the same publishes without a key went through.
 */
export class UnwrittenDigests {
  private readonly lastAt = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  /** A keyed publish of `subscriberId`'s was refused. */
  mark(subscriberId: string): void {
    if (this.lastAt.size >= UNWRITTEN_KEPT) this.lastAt.clear();
    this.lastAt.set(subscriberId, this.now());
  }

  /** Whether one did within UNWRITTEN_WINDOW_MS. */
  recently(subscriberId: string): boolean {
    const at = this.lastAt.get(subscriberId);
    if (at === undefined) return false;
    if (this.now() - at <= UNWRITTEN_WINDOW_MS) return true;
    this.lastAt.delete(subscriberId);
    return false;
  }
}

/** How long a refused keyed publish has its subscriber's next ones asked first. */
export const UNWRITTEN_WINDOW_MS = 60_000;
/** Subscribers remembered per process (the map starts over when full, as the other caches do). */
const UNWRITTEN_KEPT = 10_000;

/**
 * PublishOptions.admitDigests for a publish of `subscriberId`'s. A keyed publish refused as
 * `reused` (422) or for storage (429), or answered as a repeat, stores nothing, and was charged
 * nothing: a loop of them with one used key and a heavy payload each cost the shared process its
 * digests for free (the publish rate is off by default). Now the keyed payloads beyond
 * FREE_DIGEST_KB of those that wrote nothing are charged WORK_COSTS.kbDigested a KB, into debt; and
 * once one of its keyed publishes was refused (`unwritten`: its key reused, or the storage quota),
 * a subscriber's keyed publishes over FREE_DIGEST_KB are refused 429 work_budget_exhausted before
 * they are digested while its balance is not positive. One that writes its event is never charged:
 * the stored bytes count it.
 */
export function admitDigests(
  deps: WorkBudgetDeps,
  req: Request,
  subscriberId: string,
  unwritten: UnwrittenDigests,
): (payloadChars: number) => Promise<(unwrittenChars: number, refused: boolean) => Promise<void>> {
  return async (payloadChars) => {
    if (digestCost(payloadChars) <= 0) return FREE;
    const charge: ChargeWork = unwritten.recently(subscriberId)
      ? await admitWork(deps, req, subscriberId)
      : (units) => chargeWork(deps, req, subscriberId, units);
    return async (unwrittenChars, refused) => {
      // A refusal marks the subscriber, a repeat (a client's ordinary retry) does not; nor does a
      // key that is never charged (the admin's, a publisher's).
      if (refused && isCharged(req)) unwritten.mark(subscriberId);
      await charge(digestCost(unwrittenChars));
    };
  };
}

/** The units for digesting `chars` of JSON: what is beyond FREE_DIGEST_KB. */
function digestCost(chars: number): number {
  return Math.max(0, Math.ceil(chars / 1024) - FREE_DIGEST_KB) * WORK_COSTS.kbDigested;
}

/**
 * For a read of one record whose cost (`units`, recordReadCost) is known before its costly part is
 * done or answered: free, no budget call; else admitWork's check (429 while the balance is not
 * positive) now, and the charge of `units` when the returned function is called.
 */
export async function admitRecordRead(
  deps: WorkBudgetDeps,
  req: Request,
  subscriberId: string,
  units: number,
): Promise<() => Promise<void>> {
  if (units <= 0) return async () => undefined;
  const charge = await admitWork(deps, req, subscriberId);
  return () => charge(units);
}
