/** Gives back what was taken; calling it twice is harmless. */
export type ReleaseSlot = () => void;

export interface InFlightCapOptions {
  /** What one key may have in flight at once, in the unit of the weights taken. */
  limit: number;
  /** Called with sleepers to wake when a key frees room (at most one per release). */
  wake: (sleepers: string[]) => void;
  /**
   * Whose a sleeper is (its subscriber): a key's sleepers are woken one group at a time, in turn,
   * each group's first come first. @defaultValue every sleeper its own group's, so first come first woken
   */
  groupOf?: (sleeper: string) => string;
  /**
   * With nothing of a key in flight here, how long its sleepers still left wait for a take before
   * they are all woken (no release of this worker's is coming to wake them). @defaultValue 1000
   */
  idleWakeMs?: number;
  /**
   * How long a group that parked on a key, or had a sleeper woken there, still counts as wanting it
   * (see tryTake's `group`): its endpoints, once woken, come back through admission and a job
   * before they take. @defaultValue 5000
   */
  contendMs?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

interface KeyState {
  inFlight: number;
  /** What each group (of the takes that named one) has in flight. */
  byGroup: Map<string, number>;
  /** When each group last parked a sleeper on the key, or had one woken (it comes back for a slot). */
  wantedAt: Map<string, number>;
  /** Set while nothing is in flight and sleepers are left: wakes them all unless a take comes first (released). */
  idleTimer?: NodeJS.Timeout;
  /** Set while sleepers wait for their share with room left: wakes those who may take by then (checkShares). */
  shareTimer?: NodeJS.Timeout;
  /**
   * Sleepers (lane members) parked because this key was full, by group, the groups in turn order
   * (a Map keeps insertion order; a group woken goes to the back).
   */
  sleepers: Map<string, string[]>;
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
 * The turns go by group (`groupOf`: the subscriber): first come first woken, a hundred endpoints of
 * one subscriber parked on an address another subscriber's receiver shares (a CDN's, a tunnel's)
 * made that receiver's endpoint wait behind all hundred wakes (~12 s at 25 slots of 2.9 s answers).
 *
 * And the slots go by group: a take that names its group gets no more than an equal share of the
 * key while other groups want it (have some of it in flight, or had a sleeper parked on it or woken
 * there within `contendMs`).
 * Turns alone did not do it: one subscriber's endpoints held every slot of an address, each slot
 * that freed was taken again at once by its own deliveries already admitted, and another
 * subscriber's woken endpoint, back through admission a moment later, found the address full again
 * (an audit's estimate: ~4 deliveries a second to that address per worker, against two endpoints
 * answering in 2.9 s, just under the slow lane's threshold).
 */
export class InFlightCap {
  private readonly keys = new Map<string, KeyState>();
  private readonly groupOf: (sleeper: string) => string;
  private readonly idleWakeMs: number;
  private readonly contendMs: number;
  private readonly now: () => number;

  constructor(private readonly options: InFlightCapOptions) {
    this.groupOf = options.groupOf ?? ((sleeper) => sleeper);
    this.idleWakeMs = options.idleWakeMs ?? 1000;
    this.contendMs = options.contendMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Takes `weight` (above 0) of `key`, or null when it does not fit, or when `group` (whose take
   * it is, as `groupOf` names sleepers) holds its share already while other groups want the key.
   * No await: every attempt's path.
   */
  tryTake(key: string, weight = 1, group?: string, opts: { ignoreShare?: boolean } = {}): ReleaseSlot | null {
    let state = this.keys.get(key);
    if (!state) {
      state = { inFlight: 0, byGroup: new Map(), wantedAt: new Map(), sleepers: new Map() };
      this.keys.set(key, state);
    }
    if (!this.fits(state, weight)) return null;
    if (group !== undefined && !opts.ignoreShare && !this.withinShare(state, group, weight)) return null;
    state.inFlight += weight;
    // A group's want is not dropped when it takes: others of its endpoints may be on their way back.
    if (group !== undefined) state.byGroup.set(group, (state.byGroup.get(group) ?? 0) + weight);
    // Something is in flight again: its release wakes the next sleeper, and the idle wait starts over
    // from the release that leaves nothing in flight.
    clearTimeout(state.idleTimer);
    state.idleTimer = undefined;
    const held = state;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.inFlight -= weight;
      if (group !== undefined) {
        const left = (held.byGroup.get(group) ?? weight) - weight;
        if (left > 0) held.byGroup.set(group, left);
        else held.byGroup.delete(group);
      }
      this.released(key, held);
    };
  }

  /**
   * A take of `key` ended: the next sleeper in turn is woken; and when nothing of the key is left in
   * flight here, every sleeper still left is, unless something is taken within `idleWakeMs`. Each
   * sleeper waits for a release of this worker's, one per release, and the endpoints a release
   * wakes may be served by another worker, whose releases wake nobody here: the last sleepers
   * waited for a release that never came, asleep until `parkMs` (30 s: scheduler-books caught an
   * endpoint left with 3 deliveries ready and nothing in flight anywhere). Waking them at once
   * instead would send every parked endpoint back through admission each time the key's attempts
   * all end together, before the one just woken has come for its slot.
   */
  private released(key: string, state: KeyState): void {
    // The next sleeper in turn whose group may take it: one over its share would only come back to
    // be parked again, while another's waited for the next release.
    if (this.fits(state, 1)) this.wakeWhoMay(state, 1);
    // Those left may be held back by their share while the groups they yield to stop wanting the
    // key (served by another worker) with no release here to say so.
    if (state.sleepers.size > 0) this.checkSharesLater(key, state);
    if (state.inFlight === 0 && state.sleepers.size > 0) {
      state.idleTimer = setTimeout(() => {
        state.idleTimer = undefined;
        const rest: string[] = [];
        for (let left = nextSleeper(state.sleepers, ANY); left !== undefined; left = nextSleeper(state.sleepers, ANY)) rest.push(left);
        if (rest.length > 0) this.options.wake(rest);
        this.forgetIfIdle(key, state);
      }, this.idleWakeMs);
      state.idleTimer.unref();
    }
    this.forgetIfIdle(key, state);
  }

  /**
   * Sleepers held back by their share while the key has room: the groups they yield to may stop
   * wanting it (served elsewhere, or parked more than contendMs ago) with no release here to say
   * so. Within contendMs each wakes if its group may take then, as many as there is room for.
   */
  private checkSharesLater(key: string, state: KeyState): void {
    if (state.shareTimer) return;
    // A millisecond past contendMs: the wants that held them back, all older than this timer, have
    // run out by then (a timer may fire a little early by the clock).
    state.shareTimer = setTimeout(() => {
      state.shareTimer = undefined;
      const room = this.options.limit - state.inFlight;
      if (room > 0) this.wakeWhoMay(state, room);
      // Looked at again while some are left and the key had room: those just woken may be served by
      // another worker and never take it. A full key's releases wake them.
      if (state.sleepers.size > 0 && room > 0) this.checkSharesLater(key, state);
      this.forgetIfIdle(key, state);
    }, this.contendMs + 1);
    state.shareTimer.unref();
  }

  /**
   * Wakes up to `most` sleepers, each the next in turn whose group may take a slot, counting those
   * of its group woken before it in this call against its share.
   */
  private wakeWhoMay(state: KeyState, most: number): void {
    const woken: string[] = [];
    const pending = new Map<string, number>();
    while (woken.length < most) {
      const next = nextSleeper(state.sleepers, (group) => this.withinShare(state, group, 1, pending.get(group) ?? 0));
      if (next === undefined) break;
      const group = this.groupOf(next);
      pending.set(group, (pending.get(group) ?? 0) + 1);
      state.wantedAt.set(group, this.now());
      woken.push(next);
    }
    if (woken.length > 0) this.options.wake(woken);
  }

  /** Drops `key`'s state once nothing is in flight and nobody sleeps on it (only if it is still the key's). */
  private forgetIfIdle(key: string, state: KeyState): void {
    if (state.inFlight === 0 && state.sleepers.size === 0 && this.keys.get(key) === state) this.keys.delete(key);
  }

  /**
   * `sleeper` was parked because `weight` did not fit in `key`: it is woken when a take of the key is
   * released, or at once if room freed while it was being parked (that release found nobody to wake).
   */
  parked(key: string, sleeper: string, weight = 1): void {
    const state = this.keys.get(key);
    const group = this.groupOf(sleeper);
    // It wants the key whether it is woken at once or sleeps (its own want counts in its share anyway).
    state?.wantedAt.set(group, this.now());
    if (!state || (this.fits(state, weight) && this.withinShare(state, group, weight))) {
      this.options.wake([sleeper]);
      return;
    }
    // Parked for its share alone, with room left: no release may come to wake it.
    if (this.fits(state, weight)) this.checkSharesLater(key, state);
    const queue = state.sleepers.get(group);
    if (!queue) state.sleepers.set(group, [sleeper]);
    else if (!queue.includes(sleeper)) queue.push(sleeper);
  }

  /** What `key` has in flight (tests, metrics). */
  inFlight(key: string): number {
    return this.keys.get(key)?.inFlight ?? 0;
  }

  /** Every parked sleeper, for a worker that stops: they must not wait for releases it will never make. */
  drainSleepers(): string[] {
    const all = [...this.keys.values()].flatMap((s) => {
      const sleepers = [...s.sleepers.values()].flat();
      s.sleepers.clear();
      return sleepers;
    });
    return [...new Set(all)];
  }

  private fits(state: KeyState, weight: number): boolean {
    return state.inFlight === 0 || state.inFlight + weight <= this.options.limit;
  }

  /**
   * Whether `group` may take `weight` more of the key beside the other groups that want it: any
   * group with nothing of it in flight may (so every group makes progress), and a group with some
   * up to an equal share of the limit (rounded up) among the groups that want it. `pending`: slots
   * of the group's already promised (sleepers just woken) counted as held.
   */
  private withinShare(state: KeyState, group: string, weight: number, pending = 0): boolean {
    const held = (state.byGroup.get(group) ?? 0) + pending;
    if (held === 0) return true;
    // The common case, one group alone on the key (its own parks and wakes included), without
    // building the set below: every attempt's path.
    if (onlyOf(state.byGroup, group) && onlyOf(state.wantedAt, group)) return true;
    const since = this.now() - this.contendMs;
    const wanting = new Set(state.byGroup.keys());
    for (const [other, at] of state.wantedAt) {
      if (at > since) wanting.add(other);
      else state.wantedAt.delete(other);
    }
    wanting.add(group);
    return wanting.size === 1 || held + weight <= Math.ceil(this.options.limit / wanting.size);
  }
}

const ANY = (): boolean => true;

/** Whether `map` names no key but `key`. */
function onlyOf(map: ReadonlyMap<string, unknown>, key: string): boolean {
  return map.size === 0 || (map.size === 1 && map.has(key));
}

/**
 * The first sleeper of the first group in turn that `may` take; that group goes to the back of the
 * turns, and the groups passed over keep their places.
 */
function nextSleeper(sleepers: Map<string, string[]>, may: (group: string) => boolean): string | undefined {
  for (const [group, queue] of sleepers) {
    if (!may(group)) continue;
    const next = queue.shift();
    sleepers.delete(group);
    if (queue.length > 0) sleepers.set(group, queue);
    return next;
  }
  return undefined;
}
