/** Gives back what was taken; calling it twice is harmless. */
export type ReleaseSlot = () => void;

export interface InFlightCapOptions {
  /** What one key may have in flight at once, in the unit of the weights taken. */
  limit: number;
  /** Called with sleepers to wake when a key frees room (at most one per release). */
  wake: (sleepers: string[]) => void;
}

interface KeyState {
  inFlight: number;
  /** Sleepers (lane members) parked because this key was full, first come first woken. */
  sleepers: string[];
}

/**
 * What one worker has in flight per key, against a limit, each take of a weight: AddressSlots'
 * attempts per receiver address, each of weight 1 (a subscriber's payload bytes, the other weighted
 * user, moved to admission: admit.lua). A key with nothing in flight always takes, whatever the
 * weight.
 *
 * A take over the limit does not wait: the caller parks its delivery (back to the head of its lane,
 * its endpoint asleep) and then names the endpoint's sleeper here (`parked`); each release wakes one
 * parked sleeper, so the endpoints waiting on a full key take turns without cycling through the queue.
 */
export class InFlightCap {
  private readonly keys = new Map<string, KeyState>();

  constructor(private readonly options: InFlightCapOptions) {}

  /** Takes `weight` of `key`, or null when it does not fit. No await: every attempt's path. */
  tryTake(key: string, weight = 1): ReleaseSlot | null {
    let state = this.keys.get(key);
    if (!state) {
      state = { inFlight: 0, sleepers: [] };
      this.keys.set(key, state);
    }
    if (!this.fits(state, weight)) return null;
    state.inFlight += weight;
    const held = state;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.inFlight -= weight;
      const next = held.sleepers.shift();
      if (next !== undefined) this.options.wake([next]);
      if (held.inFlight === 0 && held.sleepers.length === 0) this.keys.delete(key);
    };
  }

  /**
   * `sleeper` was parked because `weight` did not fit in `key`: it is woken when a take of the key is
   * released, or at once if room freed while it was being parked (that release found nobody to wake).
   */
  parked(key: string, sleeper: string, weight = 1): void {
    const state = this.keys.get(key);
    if (!state || this.fits(state, weight)) {
      this.options.wake([sleeper]);
      return;
    }
    if (!state.sleepers.includes(sleeper)) state.sleepers.push(sleeper);
  }

  /** What `key` has in flight (tests, metrics). */
  inFlight(key: string): number {
    return this.keys.get(key)?.inFlight ?? 0;
  }

  /** Every parked sleeper, for a worker that stops: they must not wait for releases it will never make. */
  drainSleepers(): string[] {
    const all = [...this.keys.values()].flatMap((s) => s.sleepers.splice(0));
    return [...new Set(all)];
  }

  private fits(state: KeyState, weight: number): boolean {
    return state.inFlight === 0 || state.inFlight + weight <= this.options.limit;
  }
}
