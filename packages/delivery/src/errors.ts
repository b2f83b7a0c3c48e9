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
