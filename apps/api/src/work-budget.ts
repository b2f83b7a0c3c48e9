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
  /** A log entry or record read: a listing's scanned entries, a recover's, an endpoint listed. */
  recordRead: 1,
  /** A delivery reopened (retry, recover) or written (a replay to one endpoint): ~12 commands and a job. */
  deliveryWritten: 10,
  /**
   * A test send: its event, delivery and attempt (~14 KB) stay in Redis for the retention period.
   * At the default refill, five a second, ~250 MB an hour at most (an audit made 215 a second, ~11 GB an hour).
   */
  testSend: 1000,
});

export class WorkBudgetError extends AppError {
  constructor(
    readonly perSecond: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      429,
      'work_budget_exhausted',
      `the subscriber has spent its work budget (limits.workUnitsPerSecond, ${perSecond} units a second: recovers, filtered listings, replays, retries and test sends are charged by the records they read and write); retry after ${retryAfterSeconds} s, or narrow the request (a shorter window, a cursor, fewer endpoints)`,
      [{ path: 'limits.workUnitsPerSecond', message: `${perSecond} units a second, about one per record read` }],
      { headers: { 'retry-after': String(retryAfterSeconds) } },
    );
  }
}

type WorkBudgetDeps = { store: Store; subscriberLimits: SubscriberLimitsReader; now: () => number };

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
  const role = principalOf(req).role;
  if (role !== 'subscriber' && role !== 'session') return FREE;
  const limits = await deps.subscriberLimits.of(subscriberId);
  const rate = { perSecond: limits.workUnitsPerSecond, burst: limits.workUnitsBurst };
  const verdict = await deps.store.workBudgets.check(subscriberId, rate, deps.now());
  if (verdict) throw new WorkBudgetError(rate.perSecond, Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
  return async (units) => {
    if (units > 0) await deps.store.workBudgets.charge(subscriberId, units, rate, deps.now());
  };
}
