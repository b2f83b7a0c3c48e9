import type Redis from 'ioredis';
import type { Keys } from '../keys';
import { escapeGlob, scanTargets } from '../scan-targets';

/**
 * Up to 2,000 of one subscriber's due retries into the set for everyone, atomically: both writes or
 * neither (a refused ZADD, Redis out of memory, raises before the removal), each member keeping its
 * score; the count moved, 0 once the set is empty (and so gone). In steps, so a subscriber with a
 * million retries neither blocks Redis for seconds nor builds a table of them all in one script.
 */
const MOVE_BACK = `
local items = redis.call('ZRANGE', KEYS[1], 0, 1999, 'WITHSCORES')
if #items == 0 then
  return 0
end
local args = {}
for i = 1, #items, 2 do
  args[#args + 1] = items[i + 1]
  args[#args + 1] = items[i]
end
redis.call('ZADD', KEYS[2], unpack(args))
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, #items / 2 - 1)
return #items / 2`;

export interface DueSetsBackReport {
  subscribers: number;
  retries: number;
}

/**
 * For a rollback to a version before per-subscriber due sets (lanes.lua `due:s:<s>`): moves every
 * subscriber's waiting retries into the one due set for everyone (`due`), which is all an earlier
 * version reads, and drops `dueq` and the count of retries waiting. Run it with every process of
 * this version stopped: a retry one of them schedules meanwhile would wait where the earlier
 * version never looks.
 */
export async function moveDueSetsBack(redis: Redis, keys: Keys): Promise<DueSetsBackReport> {
  const sched = keys.sched();
  const report: DueSetsBackReport = { subscribers: 0, retries: 0 };
  for (const node of await scanTargets(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${escapeGlob(sched)}:due:s:*`, 'COUNT', 500);
      cursor = next;
      for (const key of found) {
        for (let moved = -1; moved !== 0;) {
          moved = Number(await redis.eval(MOVE_BACK, 2, key, `${sched}:due`));
          report.retries += moved;
        }
        report.subscribers += 1;
      }
    } while (cursor !== '0');
  }
  const replies = await redis.multi().del(`${sched}:dueq`).hdel(`${sched}:stats`, 'due').exec();
  const failed = replies?.find(([err]) => err)?.[0];
  if (!replies || failed) throw failed ?? new Error('the transaction dropping dueq was aborted');
  return report;
}
