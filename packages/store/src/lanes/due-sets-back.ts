import { Cluster } from 'ioredis';
import type Redis from 'ioredis';
import type { Keys } from '../keys';

/**
 * One subscriber's due set into the set for everyone, atomically: both writes or neither (a refused
 * ZADD, Redis out of memory, raises before the DEL). Added in batches (Lua's unpack takes a few
 * thousand values), each member keeping its score; the set for everyone is not rebuilt, as a
 * ZUNIONSTORE onto itself per subscriber would.
 */
const MOVE_BACK = `
local items = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for at = 1, #items, 2000 do
  local args = {}
  for i = at, math.min(at + 1999, #items), 2 do
    args[#args + 1] = items[i + 1]
    args[#args + 1] = items[i]
  end
  redis.call('ZADD', KEYS[2], unpack(args))
end
redis.call('DEL', KEYS[1])
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
  // SCAN sees one server's keys: on a Cluster, every master in turn (the keys share the prefix's
  // hash tag, so they are all on one).
  for (const node of redis instanceof Cluster ? (redis as Cluster).nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${sched}:due:s:*`, 'COUNT', 500);
      cursor = next;
      for (const key of found) {
        report.retries += Number(await redis.eval(MOVE_BACK, 2, key, `${sched}:due`));
        report.subscribers += 1;
      }
    } while (cursor !== '0');
  }
  await redis.multi().del(`${sched}:dueq`).hdel(`${sched}:stats`, 'due').exec();
  return report;
}
