import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { Keys } from './keys';

const CHARGE_WORK_BUDGET = readFileSync(join(__dirname, 'charge-work-budget-1.lua'), 'utf8');

type BudgetRedis = Redis & {
  hookrelayChargeWorkBudget(key: string, nowMs: number, perSecond: number, burst: number, cost: number): Promise<number>;
};

/** A subscriber's work budget: `burst` units, refilled at `perSecond` units a second. */
export interface WorkBudgetRate {
  perSecond: number;
  burst: number;
}

/** Null while the balance is positive, else how long until it is again. */
export type WorkBudgetVerdict = null | { retryAfterMs: number };

/**
 * Per-subscriber work budgets in Redis, shared by every API process (charge-work-budget-1.lua: a
 * token bucket charged after the work, that may go into debt). `check` before a heavy request,
 * `charge` its cost after it.
 */
export class WorkBudgets {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {
    if (!('hookrelayChargeWorkBudget' in redis))
      redis.defineCommand('hookrelayChargeWorkBudget', { numberOfKeys: 1, lua: CHARGE_WORK_BUDGET });
  }

  /** Whether the subscriber's balance is positive at `nowMs`; charges nothing. */
  check(subscriberId: string, rate: WorkBudgetRate, nowMs: number): Promise<WorkBudgetVerdict> {
    return this.charge(subscriberId, 0, rate, nowMs);
  }

  /** Takes `units` (a whole number, at least 0) from the balance, into debt if need be; the verdict after it. */
  async charge(subscriberId: string, units: number, rate: WorkBudgetRate, nowMs: number): Promise<WorkBudgetVerdict> {
    const waitMs = await (this.redis as BudgetRedis).hookrelayChargeWorkBudget(
      this.keys.subscriberWorkBudget(subscriberId),
      nowMs,
      rate.perSecond,
      rate.burst,
      Math.max(0, Math.ceil(units)),
    );
    return waitMs > 0 ? { retryAfterMs: waitMs } : null;
  }
}
