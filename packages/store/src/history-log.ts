import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';

/**
 * History logs: Redis streams whose entries carry one value (field `i`: an id, or a small record;
 * the event log's also carry the event's type `t` and createdAt `c`) and whose entry ids start
 * with the time the entry was written (`<ms>-<seq>`), so entries of one millisecond keep their
 * order. Every history index is one: a subscriber's events and deliveries, an endpoint's
 * deliveries, a source's requests. Streams because an entry costs about 45 bytes against ~145 for
 * a sorted-set member (measured with `npm run bench`, phase 6), they trim by time
 * (`XADD ... MINID`) and they page by entry id without offsets. create-event.lua appends to the
 * event and delivery logs itself, in the same script as the records.
 */

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
  /** Per item, the cursor that continues after it: for a caller that answers with fewer items than it read. */
  cursorAfter: string[];
  /** Log entries read (and loaded) for the page: what a caller with a budget across pages counts. */
  scanned: number;
}

export interface PageOptions extends TimeWindow {
  cursor?: string;
  limit: number;
  /**
   * Log entries the page may read at most, whatever it finds, before it ends with a cursor.
   * @defaultValue MAX_SCANNED (5,000)
   */
  maxScanned?: number;
}

export const LOG_ENTRY = readFileSync(join(__dirname, 'log-entry.lua'), 'utf8');

/** A script that writes history logs, with the shared `appendLogEntry` (log-entry.lua) ahead of it. */
export function logWritingScript(file: string): string {
  return `${LOG_ENTRY}\n${readFileSync(join(__dirname, file), 'utf8')}`;
}

const APPEND_LOG = logWritingScript('append-log.lua');

type LogRedis = Redis & {
  hookrelayAppendLog(
    key: string,
    owner: string,
    ms: number,
    retentionMs: number,
    nowMs: number,
    maxLen: number,
    value: string,
    checkOwner: string,
  ): Promise<number>;
};

/**
 * Teaches a connection `appendToLog`'s script (idempotent). Called by the stores that append, when
 * they are created: never on first use. A command defined while the connection has an auto-pipeline
 * open for this tick is missing from that pipeline, and calling it there made ioredis throw
 * `results[i] is not iterable` outside any promise, which killed the API process (redis/ioredis#1931;
 * a burst of ingest requests as a fresh process's first did it).
 */
export function defineHistoryLogCommands(redis: Pick<Redis, 'defineCommand'>): void {
  if (!('hookrelayAppendLog' in redis)) redis.defineCommand('hookrelayAppendLog', { numberOfKeys: 2, lua: APPEND_LOG });
}

/**
 * Appends `value` at time `ms`, trimming entries older than the retention period (and beyond
 * `maxLen`, when given) and renewing the log's expiry. An entry never goes before the log's newest
 * one: if another process's clock runs ahead, it lands right after that. With `whileExists`, only
 * while that key (the log's owner) exists; false when it did not. `redis` must have been given
 * defineHistoryLogCommands.
 */
export async function appendToLog(
  redis: Redis,
  key: string,
  at: { ms: number; retentionMs: number; nowMs: number; maxLen?: number },
  value: string,
  whileExists?: string,
): Promise<boolean> {
  const appended = await (redis as LogRedis).hookrelayAppendLog(
    key,
    whileExists ?? key,
    Math.max(Math.floor(at.ms), 0),
    at.retentionMs,
    at.nowMs,
    at.maxLen ?? 0,
    value,
    whileExists === undefined ? '0' : '1',
  );
  return appended === 1;
}

const CHUNK = 200;
/** A filtered listing reads at most this many entries per request, then hands back a cursor. */
export const MAX_SCANNED = 5000;
const ENTRY_ID = /^\d{1,16}-\d{1,20}$/;

/** The largest sequence part of a stream entry id Redis takes: a 20-digit one may be over it. */
const MAX_ENTRY_SEQUENCE = 2n ** 64n - 1n;

/**
 * The entry id a listing's cursor holds, or undefined for anything a listing never hands out. Only
 * ids Redis takes as an exclusive bound pass: `0-0` (no entry is below it) and a sequence past
 * 2^64 - 1 passed the pattern and made XREVRANGE fail, a 500 and two error lines a request.
 */
function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ENTRY_ID.test(raw)) return undefined;
  const [ms, sequence] = raw.split('-') as [string, string];
  if (BigInt(sequence) > MAX_ENTRY_SEQUENCE || (BigInt(ms) === 0n && BigInt(sequence) === 0n)) return undefined;
  return raw;
}

/** Whether `cursor` is one a listing handed out; anything else would silently restart at page 1. */
export function isCursor(cursor: string): boolean {
  return decodeCursor(cursor) !== undefined;
}

function encodeCursor(entryId: string): string {
  return Buffer.from(entryId).toString('base64url');
}

function fieldsOf(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

function entryMs(entryId: string): number {
  return Number(entryId.slice(0, entryId.indexOf('-')));
}

/**
 * Pages through a history log newest first, loading (from the entries' values, or all their fields
 * when a log's entries carry more) and filtering entries in chunks. The cursor is the last entry
 * id read, so pages stay stable while new entries arrive and none is skipped or repeated between
 * pages. `since` and `until` are inclusive epoch ms. A chunk is cut to what `maxScanned` leaves, so
 * a page never reads more entries than it may.
 */
export async function pageLogNewestFirst<T>(
  redis: Redis,
  key: string,
  opts: PageOptions,
  load: (values: string[], fields: Array<Record<string, string>>) => Promise<Array<T | null>>,
  keep: (item: T) => boolean,
): Promise<NewestFirstPage<T>> {
  // Entry ids are never below 0-0: a window ending before 1970 holds nothing.
  if (opts.until !== undefined && opts.until < 0) return { items: [], cursorAfter: [], scanned: 0 };
  const maxScanned = Math.max(1, opts.maxScanned ?? MAX_SCANNED);
  const after = decodeCursor(opts.cursor);
  // An incomplete id (`<ms>`) as the upper bound means the whole millisecond, as the lower its start.
  const until = opts.until !== undefined ? String(Math.floor(opts.until)) : undefined;
  let end = after ? `(${after}` : (until ?? '+');
  if (after && until !== undefined && Number(until) < entryMs(after)) end = until;
  const start = opts.since !== undefined && opts.since > 0 ? String(Math.ceil(opts.since)) : '-';
  const items: T[] = [];
  const cursorAfter: string[] = [];
  let scanned = 0;
  // A chunk asks for what the page still needs, doubling while a filter keeps too few, up to CHUNK:
  // an unfiltered page reads what it shows (a chunk of 200 for `limit=1` loaded 200 records and
  // answered one), and a filtered one reaches 200 a chunk after a few reads.
  let reach = opts.limit;
  for (;;) {
    const wanted = Math.min(CHUNK, maxScanned - scanned, Math.max(reach, opts.limit - items.length));
    reach = Math.min(CHUNK, reach * 2);
    const entries = (await redis.xrevrange(key, end, start, 'COUNT', wanted)) as Array<[string, string[]]>;
    if (entries.length === 0) return { items, cursorAfter, scanned };
    // Every entry of the chunk is loaded, whether or not the page ends before it.
    scanned += entries.length;
    const loaded = await load(
      entries.map(([, fields]) => fields[1] as string),
      entries.map(([, fields]) => fieldsOf(fields)),
    );
    for (let i = 0; i < entries.length; i++) {
      const entryId = (entries[i] as [string, string[]])[0];
      const item = loaded[i];
      if (item !== null && item !== undefined && keep(item)) {
        items.push(item);
        cursorAfter.push(encodeCursor(entryId));
        if (items.length === opts.limit) return { items, nextCursor: encodeCursor(entryId), cursorAfter, scanned };
      }
    }
    const last = (entries[entries.length - 1] as [string, string[]])[0];
    if (entries.length < wanted) return { items, cursorAfter, scanned };
    if (scanned >= maxScanned) return { items, nextCursor: encodeCursor(last), cursorAfter, scanned };
    end = `(${last}`;
  }
}
