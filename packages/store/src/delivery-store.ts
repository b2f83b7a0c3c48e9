import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { AttemptRecord, DeliveryRecord, DeliveryState, Endpoint, StoredEvent } from '@hookrelay/contracts';
import type { QueuedDeliveries, QueuedDelivery } from '@hookrelay/queue';
import { ATTEMPT_LIMITS, boundAttempt } from './attempt-bounds';
import { ENDPOINT_HEALTH_LUA } from './endpoint-health-store';
import { ENDPOINT_HOURLY_COUNTS_LUA, HOURS_KEPT } from './endpoint-hourly-counts';
import { parseStoredEvent, type EventStore, type EventSummary } from './event-store';
import { CREATE_EVENT, writeEvents, type EventToWrite, type EventWrite, type NewDelivery } from './event-writes';
import { STORED_BYTES_LUA } from './stored-bytes-lua';
import type { Keys } from './keys';
import { laneScript, parseLaneEntry, type LaneClass, type LaneEntry } from './lanes/lane-store';
import { TurnBatch } from './turn-batch';

// The attempt script runs the endpoint's health update too (EndpointHealthStore's, endpoint-health.lua),
// which counts the attempt in the endpoint's hour (EndpointHourlyCounts', endpoint-hourly-counts.lua).
const RECORD_ATTEMPTS = `${STORED_BYTES_LUA}\n${ENDPOINT_HOURLY_COUNTS_LUA}\n${ENDPOINT_HEALTH_LUA}\n${laneScript(join(__dirname, 'record-attempts.lua'))}`;
const LOAD_FOR_ATTEMPTS = readFileSync(join(__dirname, 'load-for-attempts.lua'), 'utf8');
const REOPEN_DELIVERIES = laneScript(join(__dirname, 'reopen-deliveries.lua'));
const END_DELIVERIES = laneScript(join(__dirname, 'end-deliveries.lua'));
const READ_DELIVERIES = readFileSync(join(__dirname, 'read-deliveries.lua'), 'utf8');

type ScriptedRedis = Redis & {
  hookrelayRecordAttempts(...args: Array<string | number>): Promise<Array<[number, number, number, number?]>>;
  hookrelayLoadForAttempts(...args: string[]): Promise<Array<string[] | string | number | null>>;
  hookrelayReopenDeliveries(...args: Array<string | number>): Promise<number[]>;
  hookrelayEndDeliveries(...args: Array<string | number>): Promise<number>;
  hookrelayReadDeliveries(...args: string[]): Promise<ReadDeliveryReply[]>;
};

/** read-deliveries.lua's answer for one delivery: its record, its scheduler entry, an earlier version's job, or nothing. */
type ReadDeliveryReply = [1, string[]] | [2, string] | [3, string, string] | [0];

/** An endpoint's run of failed deliveries, as the circuit breaker sees it. */
export interface FailureStreak {
  consecutiveFailures: number;
  /** When the run began; null when the last delivery succeeded. */
  failingSince: number | null;
}

/** What changes on a delivery record when an attempt ends. */
export interface DeliveryStatePatch {
  state: DeliveryState;
  attempts: number;
  nextAttemptAt?: number;
  lastStatusCode?: number;
  lastErrorKind?: string;
  failureReason?: string;
}

const NUMERIC_FIELDS = new Set(['attempts', 'createdAt', 'updatedAt', 'nextAttemptAt', 'lastStatusCode']);

function parseDelivery(hash: Record<string, string>): DeliveryRecord | null {
  if (!hash.id) return null;
  const out: Record<string, unknown> = {};
  // Fields starting with `_` are the scripts' bookkeeping (record-attempts.lua's `_streak`), not the record's.
  for (const [k, v] of Object.entries(hash)) if (!k.startsWith('_')) out[k] = NUMERIC_FIELDS.has(k) ? Number(v) : v;
  return out as unknown as DeliveryRecord;
}

/** A delivery not attempted yet, as its record will read once written. */
export function pendingDelivery(
  id: string,
  event: Pick<EventSummary, 'id' | 'type' | 'subscriberId'>,
  endpointId: string,
  createdAt: number,
): DeliveryRecord {
  return {
    id,
    eventId: event.id,
    eventType: event.type,
    endpointId,
    subscriberId: event.subscriberId,
    state: 'pending',
    attempts: 0,
    createdAt,
    updatedAt: createdAt,
  };
}

/** The fields that make a record a delivery's, written when the record may not exist yet. */
function recordFields(d: DeliveryRecord): Array<string | number> {
  return [
    'id',
    d.id,
    'eventId',
    d.eventId,
    'eventType',
    d.eventType,
    'endpointId',
    d.endpointId,
    'subscriberId',
    d.subscriberId,
    'createdAt',
    d.createdAt,
  ];
}

/** A key's MEMORY USAGE, every node counted (nil for none). */
const MEMORY_USAGE = "return redis.call('MEMORY', 'USAGE', KEYS[1], 'SAMPLES', '0')";

/** Teaches a connection the delivery scripts (idempotent): the store's own, or the queue's for enqueue. */
export function defineDeliveryCommands(redis: Pick<Redis, 'defineCommand'>): void {
  if ('hookrelayCreateEvent' in redis) return;
  // The key count varies with the fan-out: callers pass it first.
  redis.defineCommand('hookrelayCreateEvent', { lua: CREATE_EVENT });
  redis.defineCommand('hookrelayRecordAttempts', { lua: RECORD_ATTEMPTS });
  redis.defineCommand('hookrelayLoadForAttempts', { lua: LOAD_FOR_ATTEMPTS });
  redis.defineCommand('hookrelayReopenDeliveries', { lua: REOPEN_DELIVERIES });
  redis.defineCommand('hookrelayEndDeliveries', { lua: END_DELIVERIES });
  redis.defineCommand('hookrelayReadDeliveries', { lua: READ_DELIVERIES });
}

/** One delivery's part of a record-attempts.lua call. */
interface AttemptWrite {
  keys: [string, string, string, string, string];
  args: Array<string | number>;
}

/** Where an attempt leaves the delivery in the scheduler (lanes/lanes.lua). */
export interface AttemptScheduling {
  /** The ticket of the job that made the attempt: nothing moves unless it is still the delivery's. */
  ticket: number;
  /** The lane the job ran in (its place against its subscriber's cap is that lane's). */
  lane: LaneClass;
  /** 'slow' (timed out or took too long) or 'prompt' counts towards moving the endpoint between lanes. */
  pace: 'slow' | 'prompt' | '';
}

/** How an attempt moved its endpoint between lanes. */
export type LaneMove = 'to_slow' | 'to_fast' | null;

export interface LaneMoveOptions {
  /** Slow attempts in a row that move an endpoint to the slow lane. @defaultValue 2 */
  slowAfter?: number;
  /** Prompt attempts in a row that bring it back. @defaultValue 3 */
  fastAfter?: number;
}

/**
 * Deliveries getMany reads in one script call at most (a few reads each): an event's lookups can be
 * thousands, and one transaction of them all held Redis from every other caller (223 ms).
 */
const READS_PER_CALL = 300;

/** Attempts gathered into one record-attempts.lua call at most (5 keys each). */
const ATTEMPTS_PER_CALL = 200;
/** Deliveries read in one load-for-attempts.lua call at most (3 keys each). */
const LOADS_PER_CALL = 500;
/**
 * Deliveries reopened in one reopen-deliveries.lua call at most (~10 ms of Redis); calls go one
 * after another, so the API's event loop and Redis serve others between them.
 */
export const REOPENED_PER_CALL = 500;

function fieldsToRecord(flat: readonly string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string;
  return hash;
}

/** One delivery's part of a load-for-attempts.lua call: its id, its three keys and the event its caller holds. */
interface AttemptLoad {
  id: string;
  delivery: string;
  event: string;
  endpointVersion: string;
  held?: StoredEvent;
}

/** What load-for-attempts.lua read for one delivery. */
interface AttemptLoaded {
  hash: Record<string, string>;
  event: StoredEvent | null;
  entry: LaneEntry | null;
  endpointVersion: number;
}

export class DeliveryStore {
  private readonly redis: ScriptedRedis;
  /** Each attempt's reply, or its own error: a part of a call fails alone (record-attempts.lua). */
  private readonly attemptWrites: TurnBatch<AttemptWrite, [number, number, number, number?, number?] | Error>;
  private readonly attemptLoads: TurnBatch<AttemptLoad, AttemptLoaded>;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
    /** Deliveries queued as BullMQ jobs by versions before the scheduler (packages/queue knows where). */
    private readonly queued: QueuedDeliveries,
    private readonly events: EventStore,
    private readonly retentionMs: number,
    private readonly now: () => number,
    laneMoves: LaneMoveOptions = {},
  ) {
    defineDeliveryCommands(redis);
    this.redis = redis as ScriptedRedis;
    const header = [
      keys.sched(),
      laneMoves.slowAfter ?? 2,
      laneMoves.fastAfter ?? 3,
      ATTEMPT_LIMITS.attemptsPerDelivery,
      HOURS_KEPT,
      keys.subscriberStoredBytesPrefix(),
    ];
    this.attemptWrites = new TurnBatch(async (writes) => {
      // One flat argument list, built without intermediate arrays: it runs once per worker turn.
      const call: Array<string | number> = [writes.length * 5];
      for (const w of writes) call.push(...w.keys);
      call.push(...header);
      for (const w of writes) call.push(w.args.length, ...w.args);
      return this.redis.hookrelayRecordAttempts(...call);
    }, ATTEMPTS_PER_CALL);
    this.attemptLoads = new TurnBatch((loads) => this.loadAll(loads), LOADS_PER_CALL);
  }

  /**
   * Stores each event (once) and one delivery per endpoint (unless that pair has one already) in a
   * single transaction, each delivery at the tail of its endpoint's lane; with `schedule: false`
   * out of the lanes, for a send the caller makes on the spot (an endpoint test).
   */
  async createForEvents(
    items: ReadonlyArray<{ event: StoredEvent; endpoints: readonly Pick<Endpoint, 'id'>[] }>,
    opts: { schedule?: boolean } = {},
  ): Promise<NewDelivery[][]> {
    const writes = await this.writeEvents(items, opts);
    return writes.map((w) => (w.kind === 'new' ? w.deliveries : []));
  }

  /**
   * createForEvents with idempotency keys and groups (event-writes.ts): each event's key is taken by
   * the script that writes the event, a group (one request) is written all or none, and a group
   * over its subscriber's stored bytes is refused whole.
   */
  writeEvents(items: readonly EventToWrite[], opts: { schedule?: boolean; idempotencyTtlMs?: number } = {}): Promise<EventWrite[]> {
    return writeEvents(
      { redis: this.redis, keys: this.keys, queued: this.queued, retentionMs: this.retentionMs, now: this.now() },
      items,
      opts,
    );
  }

  async get(id: string): Promise<DeliveryRecord | null> {
    const [found] = await this.getMany([id]);
    return found ?? null;
  }

  /**
   * The deliveries that exist among `ids`, in that order. One not attempted yet has no record of
   * its own (create-event.lua): it is read from its scheduler entry (or, queued by an earlier
   * version, its BullMQ job) and its event's summary (never its payload), as `pending`. Record and
   * entry are read in one transaction, so a first attempt ending in between cannot hide it.
   */
  async getMany(ids: readonly string[]): Promise<DeliveryRecord[]> {
    if (ids.length === 0) return [];
    const entries = this.keys.laneEntries();
    // One script call per READS_PER_CALL deliveries (read-deliveries.lua): Redis serves no one else
    // while one runs. Each is sent once the one before has answered: building all of an event's
    // lookups at once (5,000 ids, then 15,000 commands) held the event loop 175 ms, and eight such
    // requests held another subscriber's publish 2.5 s.
    const replies: ReadDeliveryReply[] = [];
    for (let at = 0; at < ids.length; at += READS_PER_CALL) {
      const chunk = ids.slice(at, at + READS_PER_CALL);
      const keys = [entries, ...chunk.flatMap((id) => [this.keys.delivery(id), this.queued.jobKey(id)])];
      replies.push(...(await this.redis.hookrelayReadDeliveries(String(keys.length), ...keys, ...this.queued.fields, ...chunk)));
    }
    // Not attempted yet: named by its scheduler entry (or an earlier version's queued job).
    const found: Array<DeliveryRecord | QueuedDelivery | null> = ids.map((id, i) => {
      const reply = replies[i] ?? [0];
      if (reply[0] === 1) return parseDelivery(fieldsToRecord(reply[1]));
      if (reply[0] === 2) {
        const entry = parseLaneEntry(reply[1]);
        return entry && { id, eventId: entry.eventId, endpointId: entry.endpointId, createdAt: entry.createdAt };
      }
      return reply[0] === 3 ? this.queued.parse(id, [reply[1], reply[2]]) : null;
    });
    const eventIds = [...new Set(found.flatMap((d) => (d !== null && !('state' in d) ? [d.eventId] : [])))];
    const events = new Map<string, EventSummary>();
    for (const event of await this.events.summaries(eventIds)) if (event) events.set(event.id, event);
    return found.flatMap((d) => {
      if (d === null) return [];
      if ('state' in d) return [d];
      const event = events.get(d.eventId);
      // A delivery whose event has expired delivers nothing (the worker drops it): not listed.
      return event ? [pendingDelivery(d.id, event, d.endpointId, d.createdAt)] : [];
    });
  }

  async attempts(id: string): Promise<AttemptRecord[]> {
    return JSON.parse(await this.attemptsJson(id)) as AttemptRecord[];
  }

  /**
   * What the delivery's kept attempts take in Redis (MEMORY USAGE of the list, every node counted):
   * their JSON's bytes and 10-25% of list overhead and allocator rounding, unless the operator
   * turned on list compression (`list-compress-depth`). A bound known before they are read, for a
   * caller that must decide whether the read may be costly. Asked from a script that names the key,
   * so a cluster client sends it to the key's node (ioredis does not know MEMORY USAGE's key).
   */
  async attemptsMemoryBytes(id: string): Promise<number> {
    return Number(await this.redis.eval(MEMORY_USAGE, 1, this.keys.deliveryAttempts(id))) || 0;
  }

  /**
   * The attempts as a JSON array, as stored (each attempt is kept as its JSON): what an answer can
   * carry without parsing and serialising them again (60 attempts of ~10 KB: 617 KB a read).
   */
  async attemptsJson(id: string): Promise<string> {
    return `[${(await this.redis.lrange(this.keys.deliveryAttempts(id), 0, -1)).join(',')}]`;
  }

  /**
   * What the worker reads before an attempt: the delivery's progress, the event, the delivery's
   * scheduler entry and the endpoint's version (a cached endpoint older than it is stale), in one call shared with the other attempts starting in the same event-loop
   * turn (load-for-attempts.lua). A delivery without a record is one not attempted yet, read as
   * pending (created when its entry says, else at `createdAt`) while its event exists.
   */
  async loadForAttempt(job: {
    deliveryId: string;
    eventId: string;
    endpointId: string;
    createdAt: number;
    /**
     * The event, when the caller holds it from an earlier read (an event never changes once
     * stored): only whether it still exists is read, and it is answered as `event` while it does.
     */
    heldEvent?: StoredEvent;
  }): Promise<{
    delivery: DeliveryRecord | null;
    event: StoredEvent | null;
    entry: LaneEntry | null;
    endpointVersion: number;
  }> {
    const { hash, event, entry, endpointVersion } = await this.attemptLoads.add({
      id: job.deliveryId,
      delivery: this.keys.delivery(job.deliveryId),
      event: this.keys.event(job.eventId),
      endpointVersion: this.keys.endpointVersion(job.endpointId),
      held: job.heldEvent,
    });
    const delivery =
      parseDelivery(hash) ?? (event ? pendingDelivery(job.deliveryId, event, job.endpointId, entry?.createdAt ?? job.createdAt) : null);
    return { delivery, event, entry, endpointVersion };
  }

  /**
   * One load-for-attempts.lua call for the attempts of a turn. An event's JSON is asked for once a
   * call, and not at all when the caller holds it: the other deliveries of it ask only whether it
   * still exists, and share the first one's parse.
   */
  private async loadAll(loads: readonly AttemptLoad[]): Promise<AttemptLoaded[]> {
    const keys: string[] = [this.keys.laneEntries()];
    const args: string[] = [];
    const asked = new Set<string>();
    for (const l of loads) {
      keys.push(l.delivery, l.event, l.endpointVersion);
      const wantsJson = l.held === undefined && !asked.has(l.event);
      if (wantsJson) asked.add(l.event);
      args.push(l.id, wantsJson ? '1' : '0');
    }
    const replies = await this.redis.hookrelayLoadForAttempts(String(keys.length), ...keys, ...args);
    const parsed = new Map<string, StoredEvent | null>();
    loads.forEach((l, i) => {
      if (args[i * 2 + 1] === '1') parsed.set(l.event, parseStoredEvent((replies[i * 4 + 1] ?? null) as string | null));
    });
    return loads.map((l, i) => {
      // Asked with '0', the event is the caller's or this call's first parse, while it still exists.
      const event = args[i * 2 + 1] === '1' || replies[i * 4 + 1] === 1 ? (l.held ?? parsed.get(l.event) ?? null) : null;
      return {
        hash: fieldsToRecord((replies[i * 4] ?? []) as string[]),
        event,
        entry: parseLaneEntry(replies[i * 4 + 2] as string | null),
        endpointVersion: Number(replies[i * 4 + 3] ?? 0),
      };
    });
  }

  /**
   * Appends the attempt, moves the delivery's state (writing its record on the first attempt), moves
   * it in the scheduler when `scheduling` names the job's ticket (out of it once ended, into the
   * due set at `patch.nextAttemptAt` for a retry) and (when `health` is given) updates the
   * endpoint's health and its attempts per hour (EndpointHourlyCounts), atomically, in one call shared with the other attempts ending in the same
   * event-loop turn (record-attempts.lua). The attempt is stored within ATTEMPT_LIMITS
   * (attempt-bounds.ts), whoever recorded it. Returns the endpoint's failure streak after this
   * attempt, whether the attempt's pace moved the endpoint between lanes, and `countedElsewhere`:
   * the job's ticket was no longer the delivery's, which had been ended while the attempt ran (its
   * endpoint disabled) or is live under a newer ticket (reopened by a person, parked by another run
   * of the job): the attempt joined its history but moved its state only if it delivered (under
   * the next number when another attempt had taken its own); or it was recorded before. Either
   * way whoever ended the delivery, or the job of its current ticket, counts how it ended. (The
   * current ticket's own attempt, renumbered after such another one, counts: false.) And
   * `retryDropped`: the attempt asked for a retry that is not made (its delivery had ended), so
   * it was kept in the history as failed.
   */
  async recordAttempt(
    delivery: DeliveryRecord,
    attempt: AttemptRecord,
    patch: DeliveryStatePatch,
    health?: { endpointId: string; ok: boolean; final: 'delivered' | 'failed' | 'none' },
    scheduling?: AttemptScheduling,
  ): Promise<{ streak: FailureStreak; laneMove: LaneMove; countedElsewhere: boolean; retryDropped: boolean }> {
    const now = this.now();
    const fields: Array<string | number> = ['updatedAt', now];
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) fields.push(k, v);
    const endpointId = health?.endpointId ?? '-';
    const { id } = delivery;
    const final = health?.final ?? (patch.state === 'delivered' || patch.state === 'failed' ? patch.state : 'none');
    const reply = await this.attemptWrites.add({
      keys: [
        this.keys.delivery(id),
        this.keys.deliveryAttempts(id),
        this.keys.endpointHealth(endpointId),
        this.keys.endpointOutcomes(endpointId),
        this.keys.endpointHourlyCounts(endpointId),
      ],
      args: [
        JSON.stringify(boundAttempt(attempt)),
        this.retentionMs,
        now,
        health ? (health.ok ? '1' : '0') : '',
        final,
        scheduling?.ticket ?? '',
        scheduling?.lane ?? '',
        scheduling?.pace ?? '',
        patch.nextAttemptAt ?? '',
        patch.attempts,
        ...recordFields(delivery),
        ...fields,
      ],
    });
    // Its part failed (a key of the wrong type): this caller runs again; the call's others are written.
    if (reply instanceof Error) throw reply;
    const [consecutiveFailures, failingSince, move, ended, dropped] = reply;
    return {
      streak: { consecutiveFailures, failingSince: failingSince || null },
      laneMove: move === 1 ? 'to_slow' : move === 2 ? 'to_fast' : null,
      countedElsewhere: ended === 1,
      retryDropped: dropped === 1,
    };
  }

  /**
   * Sets fields on a delivery without an attempt (an endpoint disabled) and removes the `clear`
   * ones, say `nextAttemptAt` of a delivery that will not be attempted again. A delivery not
   * attempted yet gets its record here, with the retention expiry; an existing one keeps its expiry.
   */
  async patch(
    delivery: DeliveryRecord,
    fields: Partial<Record<keyof DeliveryRecord, string | number>>,
    clear: ReadonlyArray<keyof DeliveryRecord> = [],
  ): Promise<void> {
    const key = this.keys.delivery(delivery.id);
    const { state, attempts } = delivery;
    const multi = this.redis
      .multi()
      .hset(key, ...recordFields(delivery), ...Object.entries({ state, attempts, ...fields, updatedAt: this.now() }).flat());
    if (clear.length > 0) multi.hdel(key, ...clear);
    multi.pexpire(key, this.retentionMs, 'NX');
    await multi.exec();
  }

  /**
   * Fails `open` (deliveries read pending or retrying, at most a few hundred: one script call) with
   * `reason`, without an attempt, each only while it is still open, and takes every one of
   * `forget` out of the scheduler (end-deliveries.lua); returns how many it failed. What disabling
   * an endpoint does to what it has open.
   */
  async endOpen(open: readonly DeliveryRecord[], forget: readonly string[], reason: string): Promise<number> {
    if (open.length === 0 && forget.length === 0) return 0;
    return this.redis.hookrelayEndDeliveries(
      open.length,
      ...open.map((d) => this.keys.delivery(d.id)),
      this.keys.sched(),
      this.now(),
      this.retentionMs,
      reason,
      ...open.map((d) => JSON.stringify(recordFields(d).map(String))),
      ...forget,
    );
  }

  /**
   * Moves deliveries in one of `from`, still at the attempt count the caller read, back to pending
   * and into their endpoints' lanes for one more attempt each (a person's retry), atomically per
   * delivery; returns the ids that moved. In calls of REOPENED_PER_CALL, each awaited before the
   * next: a call per delivery, all started in one tick, blocked the event loop up to 325 ms for
   * 21,060 of them (another subscriber's publish p99 52 ms -> 1,189 ms).
   */
  async reopen(deliveries: ReadonlyArray<Pick<DeliveryRecord, 'id' | 'attempts'>>, from: readonly DeliveryState[]): Promise<string[]> {
    const moved: string[] = [];
    for (let at = 0; at < deliveries.length; at += REOPENED_PER_CALL) {
      const batch = deliveries.slice(at, at + REOPENED_PER_CALL);
      const answers = await this.redis.hookrelayReopenDeliveries(
        batch.length,
        ...batch.map((d) => this.keys.delivery(d.id)),
        this.keys.sched(),
        this.now(),
        from.length,
        ...from,
        ...batch.map((d) => d.attempts),
      );
      batch.forEach((d, i) => {
        if (answers[i] === 1) moved.push(d.id);
      });
    }
    return moved;
  }
}
