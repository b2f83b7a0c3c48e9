import type { LaneClass } from '@hookrelay/store';

/** Endpoints remembered at most; the oldest move is forgotten first (its deliveries then go out once in the lane they were admitted in). */
const MAX_REMEMBERED = 10_000;

/**
 * The lane class this worker last saw each endpoint move to (an attempt's record says when it
 * moved one, or found it moved already). Deliveries admitted ahead of their endpoint's share wait
 * in the worker (SendingShares); one that passes while its endpoint is known to have left its
 * job's lane asks the scheduler to put it back in its lane instead of sending it
 * (LaneStore.requeueIfMoved), so a receiver that turned slow gets no more of the fast lane's slots
 * than one round of its share. Only moves are kept, and an entry that the scheduler contradicts is
 * dropped, so a stale one costs one Redis call.
 */
export class EndpointLanes {
  private readonly lanes = new Map<string, LaneClass>();

  constructor(private readonly maxRemembered = MAX_REMEMBERED) {}

  moved(endpointId: string, lane: LaneClass): void {
    this.lanes.delete(endpointId);
    this.lanes.set(endpointId, lane);
    if (this.lanes.size > this.maxRemembered) this.lanes.delete(this.lanes.keys().next().value as string);
  }

  /** Whether the endpoint is known to be in a lane other than `lane`. */
  leftLane(endpointId: string, lane: LaneClass): boolean {
    const known = this.lanes.get(endpointId);
    return known !== undefined && known !== lane;
  }

  forget(endpointId: string): void {
    this.lanes.delete(endpointId);
  }

  get size(): number {
    return this.lanes.size;
  }
}
