import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { StoredEvent } from '@hookrelay/contracts';
import type { Keys } from './keys';

/** An event without its payload: what listings show and filter by. */
export type EventSummary = Pick<StoredEvent, 'id' | 'subscriberId' | 'type' | 'createdAt'>;

/** An event as stored (its JSON), or null for a key that held none. */
export function parseStoredEvent(raw: string | null): StoredEvent | null {
  return raw ? (JSON.parse(raw) as StoredEvent) : null;
}

/**
 * An event's JSON, its fields always in this order: id, subscriberId and type first and createdAt
 * last, around the payload, so `summaries` can read them from the ends of the string.
 */
export function serializeEvent(event: StoredEvent): string {
  const { id, subscriberId, type, payload, createdAt } = event;
  return JSON.stringify({ id, subscriberId, type, payload, createdAt });
}

// A head of 512 bytes holds id, subscriberId and a type of up to 200 characters (the API's limit)
// with room to spare; the tail, `,"createdAt":<ms>}`.
const HEAD_BYTES = 512;
const TAIL_BYTES = 32;
const JSON_STRING = '"(?:[^"\\\\]|\\\\.)*"';
const HEAD = new RegExp(`^\\{"id":(${JSON_STRING}),"subscriberId":(${JSON_STRING}),"type":(${JSON_STRING}),"payload":"`);
const TAIL = /,"createdAt":(\d{1,16})\}$/;
const READ_EVENT_ENDS = readFileSync(join(__dirname, 'read-event-ends.lua'), 'utf8');

type EventRedis = Redis & { hookrelayReadEventEnds(...args: Array<string | number>): Promise<string[]> };

function summaryOf(head: string, tail: string): EventSummary | undefined {
  const h = HEAD.exec(head);
  const t = TAIL.exec(tail);
  if (!h || !t) return undefined;
  const [id, subscriberId, type] = [h[1], h[2], h[3]].map((s) => JSON.parse(s as string) as string) as [string, string, string];
  return { id, subscriberId, type, createdAt: Number(t[1]) };
}

/** What `getUpTo` read: the event whole, or, for one stored longer than asked, its summary and stored size. */
export type BoundedEventRead = { event: StoredEvent } | { summary: EventSummary; storedBytes: number };

/** Events summaries read in one read-event-ends.lua call at most (~270 KB of answer). */
const SUMMARIES_PER_CALL = 500;

export class EventStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {
    if (!('hookrelayReadEventEnds' in redis)) redis.defineCommand('hookrelayReadEventEnds', { lua: READ_EVENT_ENDS });
  }

  async get(id: string): Promise<StoredEvent | null> {
    return parseStoredEvent(await this.redis.get(this.keys.event(id)));
  }

  /**
   * The event whole when its JSON is at most `maxBytes` long, else only its summary and stored
   * size, in one round trip either way: the API weighs a large event (up to 2 MB stored) before it
   * reads it, and refuses one it will not answer without reading it. An event stored in another
   * layout is read whole.
   */
  async getUpTo(id: string, maxBytes: number): Promise<BoundedEventRead | null> {
    const key = this.keys.event(id);
    const replies =
      (await this.redis
        .pipeline()
        .strlen(key)
        .getrange(key, 0, maxBytes - 1)
        .getrange(key, -TAIL_BYTES, -1)
        .exec()) ?? [];
    const [size, head, tail] = replies.map(([err, reply]) => {
      if (err) throw err;
      return reply;
    }) as [number, string, string];
    if (!size) return null;
    if (size <= maxBytes) {
      const event = parseStoredEvent(head);
      return event ? { event } : null;
    }
    const summary = summaryOf(head.slice(0, HEAD_BYTES), tail);
    if (summary) return { summary, storedBytes: size };
    const event = await this.get(id);
    return event ? { event } : null;
  }

  /** Several events by id, in that order; null where one has expired. */
  async getMany(ids: readonly string[]): Promise<Array<StoredEvent | null>> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.event(id)));
    return raws.map(parseStoredEvent);
  }

  /** Those of `ids` whose events still exist (not expired). */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.exists(this.keys.event(id));
    const replies = (await pipeline.exec()) ?? [];
    return new Set(
      ids.filter((_, i) => {
        const [err, found] = replies[i] ?? [];
        if (err) throw err;
        return found === 1;
      }),
    );
  }

  /**
   * Several events without their payloads, in that order; null where one has expired. Reads the
   * first and last bytes of each (`serializeEvent`'s layout), never the payload, which may be 1 MB:
   * a listing that read whole events took 0.7 s and hundreds of MB of the API's memory for 200 of
   * them. An event stored in another layout is read whole.
   */
  async summaries(ids: readonly string[]): Promise<Array<EventSummary | null>> {
    if (ids.length === 0) return [];
    // Both ends of every event in one call (read-event-ends.lua), not two commands an event.
    const replies: string[] = [];
    for (let at = 0; at < ids.length; at += SUMMARIES_PER_CALL) {
      const chunk = ids.slice(at, at + SUMMARIES_PER_CALL);
      const read = (this.redis as EventRedis).hookrelayReadEventEnds(
        chunk.length,
        ...chunk.map((id) => this.keys.event(id)),
        HEAD_BYTES,
        TAIL_BYTES,
      );
      replies.push(...(await read));
    }
    const out = ids.map((_, i): EventSummary | null | undefined => {
      const head = replies[i * 2] ?? '';
      // GETRANGE answers "" for a key that does not exist.
      return head === '' ? null : summaryOf(head, replies[i * 2 + 1] ?? '');
    });
    const unread = ids.filter((_, i) => out[i] === undefined);
    const whole = new Map((await this.getMany(unread)).flatMap((e) => (e ? [[e.id, e] as const] : [])));
    return out.map((summary, i) => {
      if (summary !== undefined) return summary;
      const event = whole.get(ids[i] as string);
      return event ? { id: event.id, subscriberId: event.subscriberId, type: event.type, createdAt: event.createdAt } : null;
    });
  }
}
