import type Redis from 'ioredis';

export interface TimeWindow {
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, inclusive. */
  until?: number;
}

export interface NewestFirstPage<T> {
  items: T[];
  /** Opaque; pass back to continue. Absent when the window is exhausted. */
  nextCursor?: string;
}

const CHUNK = 200;
/** A filtered listing reads at most this many index entries per request, then hands back a cursor. */
const MAX_SCANNED = 5000;

function decodeCursor(cursor: string | undefined): { score: number; member: string } | undefined {
  if (!cursor) return undefined;
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const at = raw.indexOf(':');
  const score = Number(raw.slice(0, at));
  if (at < 1 || !Number.isFinite(score)) return undefined;
  return { score, member: raw.slice(at + 1) };
}

/** Whether `cursor` is one this module handed out; anything else would silently restart at page 1. */
export function isCursor(cursor: string): boolean {
  return decodeCursor(cursor) !== undefined;
}

function encodeCursor(score: number, member: string): string {
  return Buffer.from(`${score}:${member}`).toString('base64url');
}

/**
 * Pages through a time-scored sorted set newest first, loading and filtering entries in chunks.
 * The cursor is the last (score, member) read, so pages stay stable while new entries arrive;
 * entries sharing a millisecond are ordered by member, as ZREVRANGEBYSCORE returns them.
 */
export async function pageNewestFirst<T>(
  redis: Redis,
  key: string,
  opts: TimeWindow & { cursor?: string; limit: number },
  load: (ids: string[]) => Promise<Array<T | null>>,
  keep: (item: T) => boolean,
): Promise<NewestFirstPage<T>> {
  const after = decodeCursor(opts.cursor);
  let max: number | string = after ? after.score : (opts.until ?? '+inf');
  if (after && opts.until !== undefined && opts.until < after.score) max = opts.until;
  const min = opts.since ?? '-inf';
  const items: T[] = [];
  let scanned = 0;
  let offset = 0;
  let last: { score: number; member: string } | undefined = after;
  for (;;) {
    const raw = await redis.zrevrangebyscore(key, max, min, 'WITHSCORES', 'LIMIT', offset, CHUNK);
    if (raw.length === 0) return { items };
    const entries: Array<{ member: string; score: number }> = [];
    for (let i = 0; i < raw.length; i += 2) entries.push({ member: raw[i] as string, score: Number(raw[i + 1]) });
    offset += entries.length;
    // Skip what the previous page already returned (same millisecond, member not below the cursor).
    const fresh = entries.filter((e) => !after || e.score < after.score || e.member < after.member);
    const loaded = await load(fresh.map((e) => e.member));
    for (let i = 0; i < fresh.length; i++) {
      const entry = fresh[i] as { member: string; score: number };
      last = entry;
      scanned++;
      const item = loaded[i];
      if (item !== null && item !== undefined && keep(item)) {
        items.push(item);
        if (items.length === opts.limit) return { items, nextCursor: encodeCursor(entry.score, entry.member) };
      }
    }
    if (entries.length < CHUNK) return { items };
    if (scanned >= MAX_SCANNED && last) return { items, nextCursor: encodeCursor(last.score, last.member) };
  }
}
