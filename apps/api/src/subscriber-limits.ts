import type { SubscriberLimits, Store } from '@hookrelay/store';
import { z } from 'zod';
import { AppError, StoredBytesRefusal } from './errors';

/**
 * Per-subscriber limits: what one subscriber may take of the shared service (Redis memory for its
 * endpoints and sources, the API's and workers' capacity for its events), so it cannot exhaust
 * them for the others. The server-wide defaults are configuration (config.ts); the admin overrides
 * them per subscriber with `PATCH /v1/subscribers/:sid {limits}`.
 */
export const DEFAULT_SUBSCRIBER_LIMITS: Readonly<SubscriberLimits> = Object.freeze({
  maxEndpoints: 100,
  maxSources: 50,
  /** Off: a subscriber publishes as fast as the service takes it until the admin says otherwise. */
  eventsPerSecond: 0,
  /** Ten times the endpoint quota: room to replace every endpoint ten times a retention period. */
  maxDeletedEndpoints: 1000,
  /**
   * Counted before verification, refused requests too. Each source's own limit is up to 10,000 a
   * second, and a subscriber has up to 50 sources: without this one had the API verify, record and
   * log 50 times its sources' limit (a probe: 410 unverified requests a second, each recorded and
   * logged, ~9 Redis commands each, none of it charged to its publish rate). Four of its sources at
   * their default 50 a second; a minute's, five at their default 1,200.
   */
  sourceRequestsPerSecond: 200,
  sourceRequestsPerMinute: 6000,
  /**
   * The work budget (work-budget.ts), in units of about one record read (~10 us of Redis): 5,000 a
   * second is at most ~5% of Redis for one subscriber however many API processes it spreads over
   * (an audit's recover loop of 52,000 records a request held Redis 47-50% busy), and above the
   * ~2,500 a second a portal user watching a filtered listing of a long history reads (1,000 would
   * refuse that user after about a minute). 250,000 in hand lets an honest user recover such an
   * endpoint a few times at once, or page 50 filtered listings that each read 5,000 records, or
   * make 250 test sends, before it waits.
   */
  workUnitsPerSecond: 5000,
  workUnitsBurst: 250_000,
  /**
   * 1 GiB written within the retention period: ~1,000 events of 1 MiB, or about a million small
   * events each to one endpoint and delivered at the first attempt (~1 KB each with its delivery
   * and attempt). Without it one subscriber filled Redis for everyone: its events of 1 MiB as fast
   * as it sent them (the publish rate is off by default), or one event to 100 failing endpoints
   * under 50 retries 1 ms apart, ~63 MB of attempts kept 30 days.
   */
  maxStoredBytes: 1024 * 1024 * 1024,
});

/** The largest value each limit may be set to (configuration or the admin's override). */
export const LIMIT_CEILINGS: Readonly<SubscriberLimits> = Object.freeze({
  maxEndpoints: 100_000,
  maxSources: 100_000,
  eventsPerSecond: 1_000_000,
  maxDeletedEndpoints: 1_000_000,
  sourceRequestsPerSecond: 1_000_000,
  sourceRequestsPerMinute: 60_000_000,
  workUnitsPerSecond: 1_000_000,
  workUnitsBurst: 1_000_000_000,
  maxStoredBytes: 2 ** 40,
});

const override = (ceiling: number, min = 0) => z.number().int().min(min).max(ceiling).nullable().optional();

/** The admin's changes: a number sets a limit for this subscriber, null returns it to the server's default. */
export const limitOverridesSchema = z
  .object({
    maxEndpoints: override(LIMIT_CEILINGS.maxEndpoints),
    maxSources: override(LIMIT_CEILINGS.maxSources),
    /** 0 turns the limit off. */
    eventsPerSecond: override(LIMIT_CEILINGS.eventsPerSecond),
    maxDeletedEndpoints: override(LIMIT_CEILINGS.maxDeletedEndpoints),
    /** At least 1: a subscriber's sources are turned off by deleting them, not by this. */
    sourceRequestsPerSecond: override(LIMIT_CEILINGS.sourceRequestsPerSecond, 1),
    sourceRequestsPerMinute: override(LIMIT_CEILINGS.sourceRequestsPerMinute, 1),
    /** At least 1: a subscriber's heavy requests are never free, nor refused for good. */
    workUnitsPerSecond: override(LIMIT_CEILINGS.workUnitsPerSecond, 1),
    workUnitsBurst: override(LIMIT_CEILINGS.workUnitsBurst, 1),
    /** 0 turns the limit off. */
    maxStoredBytes: override(LIMIT_CEILINGS.maxStoredBytes),
  })
  .strict();

/**
 * How long a process may act on limits it read: the publish path reads them on every request, so
 * they are kept for a second rather than read each time (a change reaches other API processes
 * within that; the process that made it forgets its copy at once).
 */
const CACHE_MS = 1000;
const CACHED_SUBSCRIBERS = 10_000;

/** The limits in force for a subscriber: the admin's overrides over the server's defaults. */
export class SubscriberLimitsReader {
  private readonly cached = new Map<string, { at: number; limits: SubscriberLimits }>();

  constructor(
    private readonly store: Store,
    readonly defaults: Readonly<SubscriberLimits>,
    private readonly now: () => number,
  ) {}

  /** `fresh` reads Redis whatever is cached: for quotas, checked where a copy a second old could let one too many through. */
  async of(subscriberId: string, opts: { fresh?: boolean } = {}): Promise<SubscriberLimits> {
    const hit = this.cached.get(subscriberId);
    if (!opts.fresh && hit && this.now() - hit.at < CACHE_MS && this.now() >= hit.at) return hit.limits;
    const limits = { ...this.defaults, ...(await this.store.subscribers.limitOverrides(subscriberId)) };
    if (this.cached.size >= CACHED_SUBSCRIBERS) this.cached.clear();
    this.cached.set(subscriberId, { at: this.now(), limits });
    return limits;
  }

  forget(subscriberId: string): void {
    this.cached.delete(subscriberId);
  }
}

export class QuotaExceededError extends AppError {
  constructor(quota: 'maxEndpoints' | 'maxSources' | 'maxDeletedEndpoints', limit: number) {
    const what = `${quota === 'maxSources' ? 'source' : 'endpoint'}${limit === 1 ? '' : 's'}`;
    const [message, detail] =
      quota === 'maxDeletedEndpoints'
        ? [
            `quota exceeded: the subscriber has deleted ${limit} ${what} within the retention period (limits.maxDeletedEndpoints), which its history keeps until then; update an endpoint instead of replacing it, or ask the operator to raise the limit`,
            `at most ${limit} ${what} deleted per retention period`,
          ]
        : [
            `quota exceeded: the subscriber has its limit of ${limit} ${what} (limits.${quota}); delete one, or ask the operator to raise it`,
            `at most ${limit} ${what} per subscriber`,
          ];
    super(409, 'quota_exceeded', message, [{ path: `limits.${quota}`, message: detail }]);
  }
}

export class PublishRateError extends AppError {
  constructor(
    readonly perSecond: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      429,
      'rate_limited',
      `the subscriber publishes more than ${perSecond} events per second (limits.eventsPerSecond); retry after ${retryAfterSeconds} s`,
      [{ path: 'limits.eventsPerSecond', message: `at most ${perSecond} events per second, a batch counting each of its events` }],
      { headers: { 'retry-after': String(retryAfterSeconds) } },
    );
  }
}

/**
 * Refuses work that would store more for a subscriber already at its stored-bytes limit (a retry,
 * a recover, a replay, a test send), as its publishes are refused there; a tenth past it its
 * deliveries wait (admit.lua), so the work would only queue. Publishes are checked in the script
 * that writes them (create-event.lua), exactly.
 */
export async function admitStoredBytes(
  deps: { store: Store; subscriberLimits: SubscriberLimitsReader; now: () => number },
  subscriberId: string,
): Promise<void> {
  const { maxStoredBytes } = await deps.subscriberLimits.of(subscriberId);
  if (maxStoredBytes === 0) return;
  const { usedBytes, waitMs } = await deps.store.storedBytes.usage(subscriberId, deps.now(), maxStoredBytes);
  if (waitMs !== null) throw new StoredBytesRefusal({ usedBytes, limitBytes: maxStoredBytes, waitMs });
}

/**
 * Counts `events` against the subscriber's events-per-second limit, across every API process
 * (Redis); throws PublishRateError, carrying Retry-After, when they are over it. Called after a
 * request is validated and before anything of it is stored.
 */
export async function admitEvents(
  deps: { store: Store; subscriberLimits: SubscriberLimitsReader; now: () => number },
  subscriberId: string,
  events: number,
): Promise<void> {
  const { eventsPerSecond } = await deps.subscriberLimits.of(subscriberId);
  if (eventsPerSecond === 0 || events === 0) return;
  const verdict = await deps.store.publishRate.take(subscriberId, events, eventsPerSecond, deps.now());
  if (verdict) throw new PublishRateError(eventsPerSecond, Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
}

/**
 * Requests the API sends on one subscriber's behalf and waits for, test sends and endpoint
 * verifications together, that the subscriber may have waiting on their receivers at once, in one
 * API process (receiverWaitsPerSubscriber).
 */
export const MAX_RECEIVER_WAITS_IN_FLIGHT = 5;
/**
 * Replays one subscriber may have running at once, in one API process: each writes and reopens up
 * to the endpoint quota's deliveries, and sixteen at once of an event of 1 MiB (read and sent whole
 * then) held another subscriber's publishes up to 561 ms (p99).
 */
export const MAX_REPLAYS_IN_FLIGHT = 2;
/**
 * Recover requests and endpoint disables (bulk work on an endpoint's deliveries, one budget) one
 * subscriber may have running at once, in one API process.
 */
export const MAX_RECOVERS_IN_FLIGHT = 1;
/**
 * Listings that read far more than they show one subscriber may have running at once, in one API
 * process, together: a delivery listing filtered by status or event type reads up to 5,000
 * deliveries for a page (~300 ms here; eight at once held another subscriber's requests up to
 * 219 ms), an event listing with outcomes up to 5,000 deliveries (eight at once: 2.5 s), and an
 * endpoint listing up to 100 endpoints of ~35 KB each (3 MB; eight at once: 437 ms).
 */
export const MAX_FILTERED_LISTINGS_IN_FLIGHT = 2;

/** The places heavy listings share (MAX_FILTERED_LISTINGS_IN_FLIGHT); each route names its own field in a 429. */
export function heavyListingsPerSubscriber(): InFlightPerSubscriber {
  return new InFlightPerSubscriber(MAX_FILTERED_LISTINGS_IN_FLIGHT, 'listings_in_flight', 'listings that read many records running');
}

/**
 * Counts each subscriber's requests of one kind (or of kinds sharing its places) in flight in this
 * process, for requests whose work is the API's own and long: a test send or an endpoint
 * verification is made on the request and may wait on its receiver for the endpoint's whole
 * timeout (up to 60 s), a recover reads up to 50,000 deliveries, a disable ends up to 10,000.
 * Without a bound, one subscriber firing them at once (a receiver that never answers, a large
 * backlog) held sockets, memory and CPU of the API every other subscriber uses, whatever its
 * publish rate (off by default). Weighted, it counts what they hold instead: the body bytes on
 * their way to a subscriber's sources (sourceBodiesPerSubscriber).
 */
export class InFlightPerSubscriber {
  constructor(
    private readonly max: number,
    /** The 429's code and what it names: 'recover_in_flight', 'recover or endpoint disable running'. */
    private readonly code: string,
    private readonly what: string,
    /** Each subscriber's requests in flight; another kind's, to share its places (sharedAs). */
    private readonly running = new Map<string, number>(),
    /** Whether each request takes its own weight of `max` (its body's bytes) rather than one place; the 429 then says how much is held. */
    private readonly weighted = false,
  ) {}

  /**
   * The same places, refused under another code: for a kind of request that costs what these do,
   * so a subscriber cannot hold `max` of each.
   */
  sharedAs(code: string): InFlightPerSubscriber {
    return new InFlightPerSubscriber(this.max, code, this.what, this.running, this.weighted);
  }

  /**
   * A place for one more of `subscriberId`'s requests, `weight` of `max` (1 for a count of
   * requests; the body bytes it may bring, for the inbound sources); 429, naming `field`, when it
   * would go over `max`. A subscriber holding none is let one request through whatever it weighs,
   * so a bound below one request's weight makes its requests wait their turn, not fail for good.
   * Release it when the request ends: the first call frees the place, later calls nothing.
   */
  take(subscriberId: string, field = 'endpoint', weight = 1): () => void {
    const now = this.running.get(subscriberId) ?? 0;
    if (now > 0 && now + weight > this.max)
      throw new AppError(
        429,
        this.code,
        !this.weighted
          ? `the subscriber has ${this.max} ${this.what} at once; retry after one ends`
          : `the subscriber holds ${now} of ${this.max} ${this.what}, and this request needs ${weight} more; retry after one ends`,
        [{ path: field, message: `at most ${this.max} at once` }],
        { headers: { 'retry-after': '1' } },
      );
    this.running.set(subscriberId, now + weight);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.running.get(subscriberId) ?? weight) - weight;
      if (left > 0) this.running.set(subscriberId, left);
      else this.running.delete(subscriberId);
    };
  }

  /** What `subscriberId`'s requests hold now, in units of `max` (0 when none). */
  held(subscriberId: string): number {
    return this.running.get(subscriberId) ?? 0;
  }

  /** The bound: places, or units of weight. */
  get limit(): number {
    return this.max;
  }
}

/**
 * Request body bytes one subscriber's source URLs may have on their way in, in one API process
 * (HOOKRELAY_SOURCE_BODY_BYTES_IN_FLIGHT). A body is held in memory until it is whole: unbounded,
 * a sender that declares 1 MB, sends all but a byte and stops holds it until the request timeout
 * (30 s), and may do so at its source's rate (1,200 a minute by default): ~1.2 GB from one URL
 * (300 such connections took the API from 171 to 453 MB), enough to have the process killed for
 * memory under every subscriber. 16 MiB is sixteen whole bodies of 1 MiB arriving at once, far
 * more than a sender's webhooks need (each arrives in milliseconds).
 */
export const DEFAULT_SOURCE_BODY_BYTES_IN_FLIGHT = 16 * 1024 * 1024;

/**
 * The places for request bodies to a subscriber's sources, in bytes: each request takes what its
 * body may bring before it is read (ingest-body.ts `bodyBytesOnTheWay`), and lets go when it ends.
 */
export function sourceBodiesPerSubscriber(maxBytes: number): InFlightPerSubscriber {
  return bodyBytesInFlight(maxBytes, 'bytes of request bodies on their way to its sources in this API process');
}

/** Places in bytes, each request taking what its body may bring: refused as `bodies_in_flight`, naming `what` is held. */
function bodyBytesInFlight(maxBytes: number, what: string): InFlightPerSubscriber {
  return new InFlightPerSubscriber(maxBytes, 'bodies_in_flight', what, new Map(), true);
}

/**
 * Request body bytes one subscriber's own calls of the `/v1` API (its keys and portal sessions) may
 * have on their way in, in one API process (HOOKRELAY_API_BODY_BYTES_IN_FLIGHT). A caller with a key
 * could declare a 1 MB JSON body, send all but a byte and stop, on as many connections as it liked:
 * each held ~1 MB of the process every subscriber uses until the request timeout (30 s), and a GET
 * with a body did the same for a read-only portal session. The admin's and publishers' keys (the
 * platform's own services) are not bounded by it.
 */
export const DEFAULT_API_BODY_BYTES_IN_FLIGHT = 16 * 1024 * 1024;

/** The places for request bodies of a subscriber's `/v1` calls, in bytes (body-reservation.ts). */
export function apiBodiesPerSubscriber(maxBytes: number): InFlightPerSubscriber {
  return bodyBytesInFlight(maxBytes, 'bytes of request bodies on their way to the API in this process');
}

/**
 * The same for one source, keyed by its id, at half its subscriber's bound: a source's URL may be
 * held by a third party (the vendor that calls it, a log it leaked into), and one URL must not
 * take every byte its subscriber's other sources share.
 */
export function sourceBodiesPerSource(perSubscriber: InFlightPerSubscriber): InFlightPerSubscriber {
  const half = Math.max(1, Math.floor(perSubscriber.limit / 2));
  return bodyBytesInFlight(half, 'bytes of request bodies on their way to this one of its sources in this API process');
}

/**
 * The places for requests the API sends on a subscriber's behalf while the client waits: a test
 * send and an endpoint verification each hold the client's request, a socket and memory until the
 * receiver answers (up to the endpoint's timeout). One budget for both: they cost the same, and
 * verifications had none (an audit held 400 at once for a subscriber with no endpoints, the API
 * going from 57 to 1,655 file descriptors). Each kind is refused under its own code.
 */
export function receiverWaitsPerSubscriber(): { testSends: InFlightPerSubscriber; verifications: InFlightPerSubscriber } {
  const testSends = new InFlightPerSubscriber(
    MAX_RECEIVER_WAITS_IN_FLIGHT,
    'test_sends_in_flight',
    'test sends and endpoint verifications waiting on their receivers',
  );
  return { testSends, verifications: testSends.sharedAs('verifications_in_flight') };
}

/**
 * The places for bulk work on an endpoint's deliveries: a recover reads up to 50,000 and reopens
 * what it finds; a disable ends up to 10,000 open ones, in the API process for a PATCH (one
 * ending 10,000 took 2.5-4.7 s and ~190,000 Redis commands, another subscriber's publish p99 289-510
 * ms; three endpoints disabled at once, 1,057 ms). One budget for both, each refused under its own
 * code: `disable_in_flight` names the `status` field.
 */
export function endpointBulkWorkPerSubscriber(): { recovers: InFlightPerSubscriber; disables: InFlightPerSubscriber } {
  const recovers = new InFlightPerSubscriber(MAX_RECOVERS_IN_FLIGHT, 'recover_in_flight', 'recover or endpoint disable running');
  return { recovers, disables: recovers.sharedAs('disable_in_flight') };
}
