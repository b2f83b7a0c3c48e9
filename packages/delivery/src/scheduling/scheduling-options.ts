/**
 * How the worker shares its slots and paces endpoints (docs/delivery-scheduling.md). Shares are of
 * a lane's concurrency, so they scale with it; the defaults keep most of a lane's slots for
 * everyone else whatever one endpoint, one receiver address or one subscriber does.
 */
export interface SchedulingOptions {
  /** Share of a lane's slots one endpoint's deliveries may hold (admitted and not ended). @defaultValue 0.25 */
  endpointShare: number;
  /** Share of a lane's slots one subscriber's deliveries may hold. @defaultValue 0.4 */
  subscriberShare: number;
  /** Share of a lane's slots, per worker, that attempts to one receiver address (after DNS) may hold. @defaultValue 0.25 */
  addressShare: number;
  /**
   * Payload bytes (a delivery's event as stored) one subscriber's deliveries may hold, admitted and
   * not ended, per lane, across all workers (admit.lua); over it the subscriber sleeps until some of
   * them end. A subscriber holding none is admitted one delivery, whatever its size. The shares count deliveries: a 1 MiB delivery costs the worker's one event loop ~3 ms
   * of CPU (the HMAC over the body per endpoint, the body turned into bytes, socket writes) against
   * ~0.2 ms for a small one, so 40 of one subscriber's held every other subscriber's deliveries
   * behind ~120 ms of CPU (docs/performance.md). @defaultValue 8388608 (8 MiB)
   */
  subscriberBytesInFlight: number;
  /** An attempt that times out or takes at least this long is slow. @defaultValue 3000 (Zenduty's receiver contract) */
  slowAttemptMs: number;
  /** Slow attempts in a row that move an endpoint to the slow lane. @defaultValue 2 */
  slowAfter: number;
  /** Prompt attempts in a row that bring it back. @defaultValue 3 */
  fastAfter: number;
  /**
   * How long an admitted delivery may wait for its job before it goes back to its lane.
   * @defaultValue the worker's lock duration, at most 10000
   */
  leaseMs: number;
  /** The longest an endpoint or subscriber at its cap sleeps unless a delivery ending wakes it. @defaultValue 30000 */
  capSleepMs: number;
  /** A place against a cap held this long is taken as lost (its job died unrecorded) and freed. @defaultValue 600000 */
  heldMaxMs: number;
  /** The longest an endpoint parked by a full receiver address sleeps unless a freed slot wakes it. @defaultValue 30000 */
  parkMs: number;
  /** With nothing else to wake it, each lane's admission looks again this often. @defaultValue 1000 */
  idleTickMs: number;
}

export const DEFAULT_SCHEDULING: Readonly<SchedulingOptions> = Object.freeze({
  endpointShare: 0.25,
  subscriberShare: 0.4,
  addressShare: 0.25,
  subscriberBytesInFlight: 8 * 1024 * 1024,
  slowAttemptMs: 3000,
  slowAfter: 2,
  fastAfter: 3,
  leaseMs: 10_000,
  capSleepMs: 30_000,
  heldMaxMs: 600_000,
  parkMs: 30_000,
  idleTickMs: 1000,
});

/** A lane's caps, in deliveries, from its concurrency and the shares (at least one each). */
export function capsFor(
  concurrency: number,
  o: Pick<SchedulingOptions, 'endpointShare' | 'subscriberShare' | 'addressShare'>,
): { endpoint: number; subscriber: number; address: number } {
  const cap = (share: number): number => Math.max(1, Math.floor(concurrency * share));
  return { endpoint: cap(o.endpointShare), subscriber: cap(o.subscriberShare), address: cap(o.addressShare) };
}
