import { join } from 'node:path';
import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import type { Endpoint, StoredEvent } from '@hookrelay/contracts';
import { deliveryId } from '@hookrelay/contracts';
import type { QueuedDeliveries } from '@hookrelay/queue';
import { serializeEvent, type EventSummary } from './event-store';
import { LOG_ENTRY } from './history-log';
import type { Keys } from './keys';
import { laneScript } from './lanes/lane-store';
import { STORED_BYTES_LUA } from './stored-bytes-lua';

/**
 * Writing events and their new deliveries (create-event.lua): DeliveryStore.writeEvents and
 * createForEvents, and the queue connection's enqueue transactions, which define the same script.
 */
export const CREATE_EVENT = `${LOG_ENTRY}\n${STORED_BYTES_LUA}\n${laneScript(join(__dirname, 'create-event.lua'))}`;

type CreateEventRedis = Redis & {
  hookrelayCreateEvent(...args: Array<string | number | Array<string | number>>): Promise<RawEventWrite[]>;
};

type CreateEventMulti = ChainableCommander & {
  hookrelayCreateEvent(...args: Array<string | number | Array<string | number>>): ChainableCommander;
};

/** What writeEvents needs of its store: a connection taught the script (defineDeliveryCommands), its keys, its clock's reading. */
export interface EventWriteContext {
  redis: Redis;
  keys: Keys;
  /** Deliveries queued as BullMQ jobs by versions before the scheduler (packages/queue knows where). */
  queued: QueuedDeliveries;
  retentionMs: number;
  now: number;
}

export interface NewDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  /** False when the (event, endpoint) pair had a delivery already: nothing was written for it. */
  created: boolean;
}

/** create-event.lua's answer for one event. */
type RawEventWrite =
  ['new', number[]] | ['repeat', string, string?] | ['reused'] | ['skipped'] | ['stale'] | ['stored', number, number, number];

/** An event to write, with its fan-out and, when the caller sent one, its idempotency key. */
export interface EventToWrite {
  /**
   * The event, or (a replay) the summary of one stored already: only its deliveries are written,
   * and its payload is neither read nor sent again (a 1 MiB event's replay sent Redis 2.2 MB that
   * create-event.lua's SET NX then threw away).
   */
  event: StoredEvent | EventSummary;
  endpoints: readonly Pick<Endpoint, 'id'>[];
  /**
   * The request it belongs to: a group's events are written all or none, and never split across
   * script calls. @defaultValue its own group
   */
  group?: number;
  /** The idempotency key (IdempotencyStore.keyOf) and the digest of the request it came with. */
  idempotency?: { key: string; digest: string };
  /**
   * The version of its subscriber's endpoints that `endpoints` were read at (EndpointStore.lastListed):
   * when they have changed since, nothing of its group is written and each of its events is
   * `stale`. @defaultValue not checked
   */
  endpointsVersion?: string;
  /**
   * The bytes its subscriber may keep written within the retention period (stored-bytes.lua): when
   * its group would take the subscriber over, nothing of the group is written and each of its
   * events is `stored`. Whatever is written is counted either way. @defaultValue not checked
   */
  storedBytesLimit?: number;
}

/**
 * What writing one event did: `new` with its deliveries; `repeat` when its idempotency key names an
 * earlier event of the same request (nothing written), with the endpoints that event's deliveries
 * were created for, when they are kept beside the key (not for keys written by earlier versions,
 * nor for a key named earlier in the same group); `reused` when the key names an event of
 * another request (nothing of its group written); `skipped` when another event of its group was
 * `reused`; `stale` when its group's endpoints changed after the version it was given (nothing of
 * the group written); `stored` when its group would take its subscriber over `storedBytesLimit`
 * (nothing of the group written; `waitMs` until it would fit, -1 never).
 */
export type EventWrite =
  | { kind: 'new'; deliveries: NewDelivery[] }
  | { kind: 'repeat'; eventId: string; endpointIds?: string[] }
  | { kind: 'reused' }
  | { kind: 'skipped' }
  | { kind: 'stale' }
  | { kind: 'stored'; usedBytes: number; limitBytes: number; waitMs: number };

/** create-event.lua calls are split at about this many keys and arguments (a batch of 1,000 one-endpoint events is ~15,000). */
const STRINGS_PER_CALL = 24_000;

/** The header argument (0-based) that says how many of a call's KEYS are shared. */
const SHARED_KEYS_ARG = 8;

/**
 * One create-event.lua call being built. A subscriber's log and version keys and an endpoint's
 * log key are sent once per call however many of its events the call holds (`shared`, at the
 * head of KEYS), and each event names them by their place: a batch of 1,000 events sent each of
 * them 1,000 times, ~300 bytes an event that ioredis encoded and Redis parsed.
 */
interface ScriptCall {
  shared: string[];
  /** Where a subscriber's three keys (events log, deliveries log, endpoints version) start in `shared`, 1-based. */
  subscriberAt: Map<string, number>;
  /** Where an endpoint's deliveries log is in `shared`, 1-based. */
  endpointAt: Map<string, number>;
  own: string[];
  args: Array<string | number>;
}

/**
 * createForEvents with idempotency keys and groups: each event's key is taken by the script that
 * writes the event (create-event.lua), and a group (one request) is written all or none. A
 * transaction rather than one call: events are split into calls of about STRINGS_PER_CALL keys
 * and arguments, at group boundaries only, and all the calls land or none does.
 */
export async function writeEvents(
  ctx: EventWriteContext,
  items: readonly EventToWrite[],
  opts: { schedule?: boolean; idempotencyTtlMs?: number } = {},
): Promise<EventWrite[]> {
  const { now, keys } = ctx;
  const calls: ScriptCall[] = [];
  let call: ScriptCall | undefined;
  let lastGroup: number | undefined;
  const planned = items.map(({ event, endpoints, group, idempotency, endpointsVersion, storedBytesLimit }, index) => {
    const deliveries = endpoints.map((endpoint) => ({
      id: deliveryId(event.id, endpoint.id),
      eventId: event.id,
      endpointId: endpoint.id,
    }));
    const groupId = group ?? -1 - index;
    if (!call || (call.shared.length + call.own.length + call.args.length >= STRINGS_PER_CALL && groupId !== lastGroup)) {
      call = {
        shared: [],
        subscriberAt: new Map(),
        endpointAt: new Map(),
        own: [],
        args: [
          ctx.retentionMs,
          now,
          keys.sched(),
          opts.schedule === false ? '0' : '1',
          opts.idempotencyTtlMs ?? ctx.retentionMs,
          keys.subscriberStoredBytesPrefix(),
          keys.delivery(''),
          ctx.queued.jobKey(''),
          // How many of KEYS are shared: set once the call is complete.
          0,
        ],
      };
      calls.push(call);
    }
    lastGroup = groupId;
    const c = call;
    let subscriberAt = c.subscriberAt.get(event.subscriberId);
    if (subscriberAt === undefined) {
      subscriberAt = c.shared.length + 1;
      c.subscriberAt.set(event.subscriberId, subscriberAt);
      c.shared.push(
        keys.subscriberEvents(event.subscriberId),
        keys.subscriberDeliveries(event.subscriberId),
        keys.subscriberEndpointsVersion(event.subscriberId),
      );
    }
    c.own.push(keys.event(event.id));
    // The script reads a second key for an event exactly when its digest is not empty.
    if (idempotency?.digest) c.own.push(idempotency.key);
    c.args.push(
      groupId,
      idempotency?.digest ?? '',
      'payload' in event ? serializeEvent(event) : '',
      event.id,
      event.createdAt,
      event.subscriberId,
      event.type,
      deliveries.length,
      endpointsVersion ?? '',
      storedBytesLimit ?? '',
      subscriberAt,
    );
    for (const d of deliveries) {
      let endpointAt = c.endpointAt.get(d.endpointId);
      if (endpointAt === undefined) {
        c.shared.push(keys.endpointDeliveries(d.endpointId));
        endpointAt = c.shared.length;
        c.endpointAt.set(d.endpointId, endpointAt);
      }
      c.args.push(d.id, d.endpointId, endpointAt);
    }
    return deliveries;
  });
  const scripted = calls.map((c) => {
    c.args[SHARED_KEYS_ARG] = c.shared.length;
    const callKeys = c.shared.concat(c.own);
    return { keys: callKeys, args: c.args };
  });
  const replies: RawEventWrite[] = [];
  if (scripted.length === 1) {
    // One call is atomic by itself: no MULTI and EXEC around it (two commands fewer a publish).
    const [only] = scripted as [(typeof scripted)[number]];
    replies.push(...(await (ctx.redis as CreateEventRedis).hookrelayCreateEvent(only.keys.length, only.keys, only.args)));
  } else {
    const multi = ctx.redis.multi();
    // Arrays, not spread arguments: one group may carry more keys than a call may take arguments.
    for (const c of scripted) (multi as CreateEventMulti).hookrelayCreateEvent(c.keys.length, c.keys, c.args);
    const results = await multi.exec();
    if (!results) throw new Error('transaction aborted');
    for (const [err, reply] of results) {
      if (err) throw err;
      replies.push(...(reply as RawEventWrite[]));
    }
  }
  return planned.map((deliveries, i): EventWrite => {
    const reply = replies[i];
    if (!reply) throw new Error('create-event.lua answered fewer events than it was given');
    if (reply[0] === 'repeat') {
      const endpoints = reply[2];
      return endpoints === undefined
        ? { kind: 'repeat', eventId: reply[1] }
        : { kind: 'repeat', eventId: reply[1], endpointIds: endpoints === '' ? [] : endpoints.split(',') };
    }
    if (reply[0] === 'reused' || reply[0] === 'skipped' || reply[0] === 'stale') return { kind: reply[0] };
    if (reply[0] === 'stored') return { kind: 'stored', usedBytes: reply[1], limitBytes: reply[2], waitMs: reply[3] };
    const created = reply[1];
    return { kind: 'new', deliveries: deliveries.map((d, j) => ({ ...d, created: created[j] === 1 })) };
  });
}
