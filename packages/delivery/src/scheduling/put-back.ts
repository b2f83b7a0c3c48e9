import type { AdmittedDeliveryRef } from '@hookrelay/contracts';

/** Puts deliveries (their `<deliveryId>-<ticket>` members, in order) back in their lane; answers the ids put back. */
export type PutBackFn = (jobIds: string[], onlyIfMoved: boolean) => Promise<string[]>;

/**
 * What of one job's deliveries has not started its attempt, put back in its lane together, in the
 * job's order, when one of them finds it must not go (its endpoint left the job's lane, or its
 * worker is stopping). One at a time, each pushed to the head of the lane as it came out of the
 * wait, a run of 75 went back newest first.
 */
export class JobPutBack {
  private readonly started = new Set<string>();
  private putBack: Promise<ReadonlySet<string>> | undefined;

  constructor(
    private readonly refs: readonly AdmittedDeliveryRef[],
    private readonly putBackFn: PutBackFn,
  ) {}

  /**
   * Whether `ref` may start its attempt: not when a sibling has put it back, nor when `reason` says
   * the rest must go back (then put back with them, once for the job). Marks it started otherwise.
   */
  async mayStart(ref: AdmittedDeliveryRef, reason: () => 'moved' | 'stopping' | null): Promise<boolean> {
    if (!this.putBack) {
      const why = reason();
      if (why === null) {
        this.started.add(ref.id);
        return true;
      }
      const rest = this.refs.filter((r) => !this.started.has(r.id)).map((r) => `${r.id}-${r.ticket}`);
      this.putBack = this.putBackFn(rest, why === 'moved').then((ids) => new Set(ids));
    }
    if ((await this.putBack).has(ref.id)) return false;
    this.started.add(ref.id);
    return true;
  }
}
