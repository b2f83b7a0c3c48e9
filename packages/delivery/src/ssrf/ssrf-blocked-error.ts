/**
 * A target was refused by the SSRF policy. `code` is what the worker's error classifier looks for
 * (`send.ts` walks `err.cause` chains for 'ESSRFBLOCKED'), so it must stay stable: an attempt
 * refused by our own policy is permanent, retrying cannot change the answer.
 */
export class SsrfBlockedError extends Error {
  override readonly name = 'SsrfBlockedError';
  readonly code = 'ESSRFBLOCKED';

  constructor(
    /** The hostname or IP literal the caller asked for. */
    readonly hostname: string,
    /** The address that was refused (equal to `hostname` for IP literals). */
    readonly address: string,
    /** Why, from `blockedAddressReason`. */
    readonly reason: string,
  ) {
    super(hostname === address ? `target ${reason}` : `target ${hostname} resolves to a blocked address: ${reason}`);
  }
}
