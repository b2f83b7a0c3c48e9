import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import type { DeliveryRecord, Endpoint } from '@hookrelay/contracts';
import type { Keys } from '../keys';
import { STORED_BYTES_LUA } from '../stored-bytes-lua';
import { TurnBatch } from '../turn-batch';

const LANES = readFileSync(join(__dirname, 'lanes.lua'), 'utf8');

/** Parks one call makes at most (a turn's worth is usually one job's, at most a lane's slots). */
const PARKS_PER_CALL = 200;

/** A script that moves deliveries, with the scheduler's library (lanes.lua) ahead of it. */
export function laneScript(path: string): string {
  return `${LANES}\n${readFileSync(path, 'utf8')}`;
}

const SCRIPTS = {
  hookrelayLaneAdmit: `${STORED_BYTES_LUA}\n${laneScript(join(__dirname, 'admit.lua'))}`,
  hookrelayLanePark: laneScript(join(__dirname, 'park.lua')),
  hookrelayLaneWake: laneScript(join(__dirname, 'wake.lua')),
  hookrelayLaneForget: laneScript(join(__dirname, 'forget.lua')),
  hookrelayLaneSample: laneScript(join(__dirname, 'sample.lua')),
  hookrelayLaneAdopt: laneScript(join(__dirname, 'adopt.lua')),
  hookrelayLaneConfigure: laneScript(join(__dirname, 'configure.lua')),
  hookrelayLanePaceSend: laneScript(join(__dirname, 'pace-send.lua')),
  hookrelayLaneOpen: laneScript(join(__dirname, 'open.lua')),
} as const;

type LaneRedis = Redis & { [K in keyof typeof SCRIPTS]: (...args: Array<string | number>) => Promise<unknown> };
/** The scripts queued inside a caller's transaction: each answers with the transaction. */
type LaneMulti = ChainableCommander & { [K in keyof typeof SCRIPTS]: (...args: Array<string | number>) => ChainableCommander };

/** The two lanes: endpoints that answer in time, and those whose recent attempts were slow. */
export type LaneClass = 'fast' | 'slow';

export interface AdmitOptions {
  laneClass: LaneClass;
  /** The class's BullMQ wait list: admission keeps it at most `target` long. */
  waitKey: string;
  target: number;
  /** Deliveries one call admits at most. */
  max: number;
  /** Deliveries admitted and not ended, per endpoint and per subscriber, in this lane class. */
  capEndpoint: number;
  capSubscriber: number;
  /** How long an admitted delivery may wait for its job to be added before it goes back to its lane. */
  leaseMs: number;
  /** The longest a member at a cap sleeps before it is looked at again (a finishing delivery wakes it sooner). */
  capSleepMs: number;
  /** A place against a cap held this long is taken as lost (its job died unrecorded) and freed. */
  heldMaxMs: number;
  /** Deliveries one endpoint's turn admits at most: the unit of fairness. @defaultValue 10 */
  quantum?: number;
  /**
   * Payload bytes one subscriber's deliveries admitted and not ended may hold in this lane class,
   * across all workers (a delivery's size is its event's stored length); over it the subscriber
   * sleeps as at its count cap. A subscriber holding none is admitted one delivery whatever its size.
   * @defaultValue 0 (no bound)
   */
  capSubscriberBytes?: number;
}

/** A delivery admitted for its next attempt: its BullMQ job is named `jobId` (`<deliveryId>-<ticket>`). */
export interface AdmittedDelivery {
  jobId: string;
  deliveryId: string;
  ticket: number;
  eventId: string;
  endpointId: string;
  manual: boolean;
}

/** A live delivery's place in the scheduler (lanes.lua's entry). */
export interface LaneEntry {
  ticket: number;
  eventId: string;
  endpointId: string;
  subscriberId: string;
  createdAt: number;
  manual: boolean;
}

export interface LaneSample {
  /** Deliveries in lanes (ready, or waiting behind a sleeping endpoint). */
  ready: number;
  /** Deliveries waiting for a retry. */
  due: number;
  /** Endpoints and subscribers asleep (at a cap, rate limited, or parked). */
  sleeping: number;
  slowEndpoints: number;
  /** Creation time of the oldest delivery at the head of a lane, or null when none waits. */
  oldestCreatedAt: number | null;
}

export function parseLaneEntry(value: string | null | undefined): LaneEntry | null {
  const m = value ? /^(\d+)\|([^|]*)\|([^|]*)\|([^|]*)\|(\d+)\|([01])$/.exec(value) : null;
  if (!m) return null;
  return { ticket: Number(m[1]), eventId: m[2]!, endpointId: m[3]!, subscriberId: m[4]!, createdAt: Number(m[5]), manual: m[6] === '1' };
}

/** `<deliveryId>-<ticket>`, split. */
export function parseJobId(jobId: string): { deliveryId: string; ticket: number } | null {
  const m = /^(.+)-(\d+)$/.exec(jobId);
  return m ? { deliveryId: m[1]!, ticket: Number(m[2]) } : null;
}

/** The sleep-set member of an endpoint (as lanes.lua names it), for `wake`. */
export function endpointSleeper(endpointId: string, subscriberId: string): string {
  return `e|${subscriberId}|${endpointId}`;
}

/**
 * The delivery scheduler's state in Redis: per-endpoint lanes of ready deliveries served
 * round-robin across subscribers and their endpoints, caps on what one endpoint or subscriber may
 * hold, per-endpoint rate limits, retry timers and the slow lane (lanes.lua, and
 * docs/delivery-scheduling.md). Deliveries enter it through create-event.lua and
 * reopen-deliveries.lua and leave or move through record-attempts.lua, each atomically with the
 * store's own writes; this class runs the rest.
 */
export class LaneStore {
  private readonly redis: LaneRedis;
  /** The parks of one event-loop turn, in one call and in their order (park.lua). */
  private readonly parks: TurnBatch<[string, number, string], number>;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
    private readonly now: () => number,
    /** Deliveries created longer ago than this have outlived their events: admitted without their endpoint's rate. */
    private readonly retentionMs: number,
  ) {
    for (const [name, lua] of Object.entries(SCRIPTS)) if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    this.redis = redis as LaneRedis;
    this.parks = new TurnBatch(
      async (parks) => (await this.redis.hookrelayLanePark(this.keys.sched(), this.now(), ...parks.flat())) as number[],
      PARKS_PER_CALL,
    );
  }

  /** Admits deliveries of one lane class in fair order; the caller adds their jobs and removes their leases. */
  async admit(o: AdmitOptions): Promise<{ admitted: AdmittedDelivery[]; nextDueAt: number | null }> {
    const reply = (await this.redis.hookrelayLaneAdmit(
      this.keys.sched(),
      this.now(),
      o.laneClass,
      o.waitKey,
      o.target,
      o.max,
      o.capEndpoint,
      o.capSubscriber,
      o.leaseMs,
      o.capSleepMs,
      o.heldMaxMs,
      o.quantum ?? 10,
      this.retentionMs,
      o.capSubscriberBytes ?? 0,
      this.keys.event(''),
      this.keys.subscriberStoredBytesPrefix(),
    )) as Array<string | number>;
    const admitted: AdmittedDelivery[] = [];
    for (let i = 1; i + 3 < reply.length; i += 4) {
      const jobId = String(reply[i]);
      const parsed = parseJobId(jobId);
      if (!parsed) continue;
      admitted.push({ jobId, ...parsed, eventId: String(reply[i + 1]), endpointId: String(reply[i + 2]), manual: reply[i + 3] === '1' });
    }
    const next = Number(reply[0]);
    return { admitted, nextDueAt: next >= 0 ? next : null };
  }

  /** The key of a lane class's leases: the caller removes an admitted delivery's lease with its job's add. */
  leasesKey(laneClass: LaneClass): string {
    return `${this.keys.sched()}:leases:${laneClass}`;
  }

  /**
   * Appends to a transaction of the caller's the write of an endpoint's scheduling settings (its
   * subscriber, its rate limit), so that they change with the endpoint (configure.lua).
   */
  appendEndpointSettings(multi: ChainableCommander, endpoint: Pick<Endpoint, 'id' | 'subscriberId' | 'rateLimit'>): void {
    (multi as LaneMulti).hookrelayLaneConfigure(
      this.keys.sched(),
      this.now(),
      endpoint.id,
      endpoint.subscriberId,
      endpoint.rateLimit?.perSecond ?? '',
    );
  }

  /**
   * How long a rate-limited endpoint's request must wait before it leaves, so that sends (not only
   * admissions) are spaced by the limit across every worker (pace-send.lua); 0 without a limit. The
   * turn is taken only when the wait is at most `maxWaitMs`: a longer one is answered untaken.
   */
  async sendWaitMs(endpointId: string, maxWaitMs = Number.MAX_SAFE_INTEGER): Promise<number> {
    return Number(await this.redis.hookrelayLanePaceSend(this.keys.sched(), this.now(), endpointId, maxWaitMs));
  }

  /**
   * Back to the head of its lane without an attempt; its endpoint sleeps until woken or `untilMs`:
   * `why` 'address' (its receiver's address was full: the worker wakes it), 'rate' (its rate
   * limit's next turn is far off: a changed limit wakes it too) or 'tls' (its subscriber failed too
   * many TLS handshakes lately: it sleeps until its subscriber may try again).
   */
  async park(jobId: string, untilMs: number, why: 'address' | 'rate' | 'tls' = 'address'): Promise<boolean> {
    return (await this.parks.add([jobId, untilMs, why])) === 1;
  }

  async wake(members: readonly string[]): Promise<void> {
    if (members.length > 0) await this.redis.hookrelayLaneWake(this.keys.sched(), this.now(), ...members);
  }

  /** Takes a delivery out of the scheduler without an attempt; with a ticket, only if it is still that one. */
  async forget(deliveryId: string, ticket?: number): Promise<boolean> {
    return (await this.redis.hookrelayLaneForget(this.keys.sched(), this.now(), deliveryId, ticket ?? '')) === 1;
  }

  /** A delivery queued by a version before the scheduler joins its endpoint's lane, unless it is live already. */
  async adopt(
    delivery: Pick<DeliveryRecord, 'id' | 'eventId' | 'endpointId' | 'subscriberId' | 'createdAt'>,
    manual: boolean,
  ): Promise<boolean> {
    const { id, eventId, endpointId, subscriberId, createdAt } = delivery;
    return (
      (await this.redis.hookrelayLaneAdopt(
        this.keys.sched(),
        this.now(),
        id,
        eventId,
        endpointId,
        subscriberId,
        createdAt,
        manual ? '1' : '0',
      )) === 1
    );
  }

  /**
   * Ids of an endpoint's live deliveries, at most `max`: its retries first, then those admitted,
   * then its lane from the head (open.lua). Read from the endpoint's own keys, so it costs what the
   * endpoint has open, whatever its history holds.
   */
  async openOf(endpointId: string, max: number): Promise<string[]> {
    return (await this.redis.hookrelayLaneOpen(this.keys.sched(), this.now(), endpointId, max)) as string[];
  }

  async entry(deliveryId: string): Promise<LaneEntry | null> {
    return parseLaneEntry(await this.redis.hget(this.keys.laneEntries(), deliveryId));
  }

  /**
   * The payload bytes a subscriber's admitted deliveries hold in a lane class, by delivery id
   * (admit.lua's books): for tests and diagnostics.
   */
  async heldBytes(subscriberId: string, laneClass: LaneClass): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(`${this.keys.sched()}:held:b:${laneClass}:${subscriberId}`);
    return Object.fromEntries(Object.entries(raw).map(([id, bytes]) => [id, Number(bytes)]));
  }

  /** Admitted deliveries whose job is not added yet. */
  async leaseCount(laneClass: LaneClass): Promise<number> {
    return this.redis.zcard(this.leasesKey(laneClass));
  }

  /**
   * Retries due within `withinMs` from now (lanes.lua's due sets, one a subscriber, scored by due
   * time): what a test's waitForDrain waits for, while a retry an hour away is not.
   */
  async dueWithin(withinMs: number): Promise<number> {
    const until = this.now() + withinMs;
    const sched = this.keys.sched();
    // `dueq` scores each subscriber by its earliest retry, or just after the last catch-up that left
    // it retries due (lanes.lua catchUpDue): only those can have one due by then.
    const subscribers = await this.redis.zrangebyscore(`${sched}:dueq`, '-inf', until + 2);
    const counts = await Promise.all([
      this.redis.zcount(`${sched}:due`, '-inf', until),
      ...subscribers.map((s) => this.redis.zcount(`${sched}:due:s:${s}`, '-inf', until)),
    ]);
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Deliveries in lanes (cheap: one counter). */
  async readyCount(): Promise<number> {
    return Number((await this.redis.hget(`${this.keys.sched()}:stats`, 'ready')) ?? 0);
  }

  /**
   * Live deliveries (with their entries) to one endpoint, wherever they wait: for diagnostics and
   * tests. It scans every live entry, so it is not for a request path (openOf reads the
   * endpoint's own keys).
   */
  async liveFor(endpointId: string): Promise<Array<{ deliveryId: string } & LaneEntry>> {
    const found: Array<{ deliveryId: string } & LaneEntry> = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.keys.laneEntries(), cursor, 'COUNT', 1000);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const entry = parseLaneEntry(flat[i + 1]);
        if (entry?.endpointId === endpointId) found.push({ deliveryId: flat[i]!, ...entry });
      }
    } while (cursor !== '0');
    return found;
  }

  async sample(maxLanes = 1000): Promise<LaneSample> {
    const [ready, due, sleeping, slowEndpoints, oldest] = (await this.redis.hookrelayLaneSample(
      this.keys.sched(),
      this.now(),
      maxLanes,
    )) as number[];
    return {
      ready: ready ?? 0,
      due: due ?? 0,
      sleeping: sleeping ?? 0,
      slowEndpoints: slowEndpoints ?? 0,
      oldestCreatedAt: oldest !== undefined && oldest >= 0 ? oldest : null,
    };
  }

  /**
   * Waits up to `timeoutMs` for a publisher's signal that deliveries joined a lane, on a connection
   * of the caller's that does nothing else (BLPOP blocks it). The class signalled, or null when
   * none was within the time.
   */
  async waitForWork(blocking: Redis, timeoutMs: number): Promise<LaneClass | null> {
    const fast = this.keys.laneSignal('fast');
    const popped = await blocking.blpop(fast, this.keys.laneSignal('slow'), Math.max(timeoutMs, 1) / 1000);
    if (popped === null) return null;
    return popped[0] === fast ? 'fast' : 'slow';
  }
}
