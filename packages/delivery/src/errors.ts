/** Thrown to BullMQ when an attempt failed and another is due after `delayMs`. */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Thrown by the processor when the endpoint's origin already has its share of the worker's
 * attempts in flight: the job goes back to the queue for `delayMs` without counting an attempt.
 */
export class OriginBusyError extends Error {
  override readonly name = 'OriginBusyError';
  constructor(
    readonly origin: string,
    readonly delayMs: number,
  ) {
    super(`${origin} is at its in-flight cap; deferred ${delayMs} ms`);
  }
}
