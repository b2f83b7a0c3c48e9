import type Redis from 'ioredis';

/** One page of a listing, and where the next one starts. */
export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; absent on the last page. */
  nextCursor?: string;
  /** Characters of stored JSON the page read, for listings of whole records (the work budget charges large pages). */
  storedChars?: number;
}

function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(`${createdAt}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): { createdAt: number; id: string } | undefined {
  if (!cursor) return undefined;
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const at = raw.indexOf(':');
  const createdAt = Number(raw.slice(0, at));
  const id = raw.slice(at + 1);
  // Exactly what encodeCursor writes: anything else would silently restart at page 1.
  return at > 0 && /^\d{1,16}$/.test(raw.slice(0, at)) && /^[A-Za-z0-9_]{1,64}$/.test(id) && encodeCursor(createdAt, id) === cursor
    ? { createdAt, id }
    : undefined;
}

/** Whether `cursor` is one a listing by creation order (endpoints, sources) handed out. */
export function isCreationOrderCursor(cursor: string): boolean {
  return decodeCursor(cursor) !== undefined;
}

/**
 * A page of ids from a subscriber's index scored by creation time (its endpoints, its sources),
 * oldest first. The cursor is the last id's position (creation time and id), not its membership,
 * so deleting it between pages skips nothing and repeats nothing; and it is taken from the index,
 * not from the records the caller then reads, so a page whose records were all deleted meanwhile
 * still leads on to the next.
 */
export async function pageByCreation(redis: Redis, key: string, opts: { limit: number; cursor?: string }): Promise<Page<string>> {
  const after = decodeCursor(opts.cursor);
  const found: Array<{ id: string; createdAt: number }> = [];
  // The page, one more to learn whether there is a next, and the cursor's own entry, which the read
  // from its millisecond on returns first while it exists: without it every later page took two reads.
  const size = opts.limit + (after ? 2 : 1);
  let offset = 0;
  // Entries sharing the cursor's millisecond come back sorted by id: skip those not after it (more
  // than the cursor's own take one more read each `size` of them).
  while (found.length <= opts.limit) {
    const chunk = await redis.zrangebyscore(key, after ? after.createdAt : '-inf', '+inf', 'WITHSCORES', 'LIMIT', offset, size);
    if (chunk.length === 0) break;
    offset += chunk.length / 2;
    for (let i = 0; i < chunk.length; i += 2) {
      const id = chunk[i] as string;
      const createdAt = Number(chunk[i + 1]);
      if (!after || createdAt > after.createdAt || id > after.id) found.push({ id, createdAt });
    }
    if (chunk.length / 2 < size) break;
  }
  const page = found.slice(0, opts.limit);
  const last = page[page.length - 1];
  const items = page.map((p) => p.id);
  return found.length > opts.limit && last ? { items, nextCursor: encodeCursor(last.createdAt, last.id) } : { items };
}
