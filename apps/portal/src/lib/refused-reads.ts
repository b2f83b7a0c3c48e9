/**
 * Reads the API refused because the subscriber's work budget is spent (`429
 * work_budget_exhausted`, with `Retry-After` in whole seconds until the balance is positive
 * again), held back until then. A page polls every 2-3 s, so a filtered listing left open while
 * the budget is a minute in debt was refused twenty times, each refusal a request the API checks
 * against Redis and an error shown anew. Kept per request (method, path and query): every other
 * read still goes, the free ones (never refused, even in debt) among them.
 */
export class RefusedReads<E> {
  private readonly held = new Map<string, { untilMs: number; error: E }>();

  constructor(
    /** Requests remembered at most; the oldest goes first. */
    private readonly maxKept = 100,
    /** The longest a read is held back, whatever Retry-After says. */
    private readonly maxHoldMs = 60_000,
  ) {}

  /** Remembers a refusal of a read until its Retry-After has passed; ignores every other answer. */
  note(
    answer: { method: string; path: string; status: number; code: string | undefined; retryAfter: string | null },
    error: E,
    nowMs: number,
  ): void {
    if (answer.method !== 'GET' || answer.status !== 429 || answer.code !== 'work_budget_exhausted') return;
    const seconds = Number(answer.retryAfter);
    const holdMs = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, this.maxHoldMs) : 1000;
    const key = `${answer.method} ${answer.path}`;
    this.held.delete(key);
    this.held.set(key, { untilMs: nowMs + holdMs, error });
    while (this.held.size > this.maxKept) this.held.delete(this.held.keys().next().value as string);
  }

  /** The refusal to answer this request with instead of asking, while it is held back; else null. */
  heldBack(method: string, path: string, nowMs: number): E | null {
    const key = `${method} ${path}`;
    const held = this.held.get(key);
    if (!held) return null;
    if (nowMs >= held.untilMs) {
      this.held.delete(key);
      return null;
    }
    return held.error;
  }
}
