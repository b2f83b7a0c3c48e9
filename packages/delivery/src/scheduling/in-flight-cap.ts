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
   * How long a slot freed to wake a sleeper is kept for the sleeper's group: a take of another
   * group may not have it meanwhile. @defaultValue 1000
   */
  keepForWokenMs?: number;
  now?: () => number;
}

interface KeyState {
  inFlight: number;
  /**
   * Sleepers (lane members) parked because this key was full, by group, the groups in turn order
   * (a Map keeps insertion order; a group woken goes to the back).
   */
  sleepers: Map<string, string[]>;
  /**
   * Slots freed to wake a sleeper, kept for its group until `until`: the woken endpoint goes back
   * through admission (Redis, a job, a fetch) while a delivery of another group that was already
   * in the worker (admitted ahead of its endpoint's share) would take the slot at once, and the
   * woken one would find the key full again, every time.
   */
  kept: Array<{ group: string; until: number }>;
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
 */
export class InFlightCap {
  private readonly keys = new Map<string, KeyState>();
  private readonly groupOf: (sleeper: string) => string;
  private readonly keepForWokenMs: number;
  private readonly now: () => number;

  constructor(private readonly options: InFlightCapOptions) {
    this.groupOf = options.groupOf ?? ((sleeper) => sleeper);
    this.keepForWokenMs = options.keepForWokenMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Takes `weight` of `key` for `group` (a slot kept for it first), or null when it does not fit.
   * No await: every attempt's path.
   */
  tryTake(key: string, weight = 1, group?: string): ReleaseSlot | null {
    let state = this.keys.get(key);
    if (!state) {
      state = { inFlight: 0, sleepers: new Map(), kept: [] };
      this.keys.set(key, state);
    }
    this.expire(key, state);
    const mine = group === undefined ? -1 : state.kept.findIndex((k) => k.group === group);
    if (mine >= 0) state.kept.splice(mine, 1);
    else if (!this.fits(state, weight)) return null;
    state.inFlight += weight;
    const held = state;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.inFlight -= weight;
      this.expire(key, held);
      this.wakeForFreedSlot(key, held);
      this.forgetIfIdle(key, held);
    };
  }

  /** A slot of `key` is free: the next sleeper in turn is woken, the slot kept for its group a while. */
  private wakeForFreedSlot(key: string, state: KeyState): void {
    const next = nextSleeper(state.sleepers);
    if (next === undefined) return;
    state.kept.push({ group: this.groupOf(next), until: this.now() + this.keepForWokenMs });
    // A kept slot nobody came for frees again: it must wake the next sleeper then, as a release would.
    setTimeout(() => {
      const current = this.keys.get(key);
      if (current) {
        this.expire(key, current);
        this.forgetIfIdle(key, current);
      }
    }, this.keepForWokenMs + 1).unref();
    this.options.wake([next]);
  }

  /** Drops the kept slots whose time has run out, each freeing a slot for the next sleeper. */
  private expire(key: string, state: KeyState): void {
    const before = state.kept.length;
    this.dropExpired(state);
    for (let i = state.kept.length; i < before; i++) this.wakeForFreedSlot(key, state);
  }

  private forgetIfIdle(key: string, state: KeyState): void {
    if (state.inFlight === 0 && state.sleepers.size === 0 && state.kept.length === 0) this.keys.delete(key);
  }

  /**
   * `sleeper` was parked because `weight` did not fit in `key`: it is woken when a take of the key is
   * released, or at once if room freed while it was being parked (that release found nobody to wake).
   */
  parked(key: string, sleeper: string, weight = 1): void {
    const state = this.keys.get(key);
    if (state) this.expire(key, state);
    // Not fitting means something is in flight (its release wakes a sleeper) or kept for another
    // group (its expiry does, if that group does not come): either way this sleeper is woken.
    if (!state || this.fits(state, weight, this.groupOf(sleeper))) {
      this.options.wake([sleeper]);
      return;
    }
    const group = this.groupOf(sleeper);
    const queue = state.sleepers.get(group);
    if (!queue) state.sleepers.set(group, [sleeper]);
    else if (!queue.includes(sleeper)) queue.push(sleeper);
  }

  /** Whether a sleeper of a group other than `group` waits on `key`, parked or woken for a slot kept for it. */
  othersWaiting(key: string, group: string): boolean {
    const state = this.keys.get(key);
    if (!state) return false;
    this.expire(key, state);
    if (state.kept.some((k) => k.group !== group)) return true;
    for (const [g, queue] of state.sleepers) if (g !== group && queue.length > 0) return true;
    return false;
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

  /** Whether `weight` fits beside what is in flight and the slots kept for groups other than `group`. */
  private fits(state: KeyState, weight: number, group?: string): boolean {
    const keptForOthers = state.kept.filter((k) => k.group !== group).length;
    if (state.inFlight === 0 && keptForOthers === 0) return true;
    return state.inFlight + keptForOthers + weight <= this.options.limit;
  }

  private dropExpired(state: KeyState): void {
    if (state.kept.length === 0) return;
    const now = this.now();
    state.kept = state.kept.filter((k) => k.until > now);
  }
}

/** The first sleeper of the group whose turn it is; that group goes to the back of the turns. */
function nextSleeper(sleepers: Map<string, string[]>): string | undefined {
  const turn = sleepers.entries().next();
  if (turn.done) return undefined;
  const [group, queue] = turn.value;
  const next = queue.shift();
  sleepers.delete(group);
  if (queue.length > 0) sleepers.set(group, queue);
  return next;
}
