/**
 * Slots per key that wait: at most `limit` holders of one key at once, the rest queued first come
 * first served. Unlike InFlightCap (which refuses, and the caller parks its delivery in Redis), a
 * wait here costs nothing but memory: it is for deliveries already admitted ahead of their turn.
 */
export class KeyedSlots {
  private readonly keys = new Map<string, { held: number; waiting: Array<() => void> }>();

  constructor(readonly limit: number) {}

  /**
   * Resolves with the function that gives the slot back (once; a second call does nothing) and
   * whether the take had to wait for it.
   */
  async take(key: string): Promise<{ release: () => void; waited: boolean }> {
    let state = this.keys.get(key);
    if (!state) {
      state = { held: 0, waiting: [] };
      this.keys.set(key, state);
    }
    const waited = state.held >= this.limit;
    if (!waited) state.held++;
    else await new Promise<void>((resolve) => state.waiting.push(resolve));
    const held = state;
    let given = false;
    const release = () => {
      if (given) return;
      given = true;
      const next = held.waiting.shift();
      // The slot passes straight to the next in line.
      if (next) next();
      else if (--held.held === 0) this.keys.delete(key);
    };
    return { release, waited };
  }

  /**
   * Lets every waiting take through at once, over the limit: for a worker that stops, whose waiting
   * deliveries only go back to their lanes (JobPutBack) and must not wait for attempts to end.
   */
  letAllGo(): void {
    for (const state of this.keys.values()) {
      for (const next of state.waiting.splice(0)) {
        state.held++;
        next();
      }
    }
  }

  /** Slots of `key` held now (tests). */
  held(key: string): number {
    return this.keys.get(key)?.held ?? 0;
  }
}
