/**
 * Credentials could not be obtained for an attempt (the OAuth token endpoint failed, answered
 * without a token, or could not be reached). The attempt is recorded with errorKind 'auth' and
 * retried by the endpoint's policy. Messages never carry a secret.
 */
export class AuthFailure extends Error {
  override readonly name = 'AuthFailure';
  /** The token request ran until its deadline: the attempt waited the whole token timeout. */
  readonly timedOut: boolean;
  /**
   * Of the attempt's wait, the milliseconds the token host's DNS lookup spent waiting for a place
   * behind other lookups (HostResolver), which say nothing of the endpoint. 0 when none.
   */
  readonly dnsQueuedMs: number;
  /** The token request's connection failed its TLS handshake: the error the dispatcher marked (markHandshakeFailed). */
  readonly handshakeFailed: object | undefined;
  /**
   * The token request's deadline passed while its connection was still being made: how that
   * connection ends (the marked error if it failed its handshake), which undici tells later.
   */
  readonly lateHandshake: Promise<object | undefined> | undefined;

  constructor(
    message: string,
    options?: {
      cause?: unknown;
      timedOut?: boolean;
      dnsQueuedMs?: number;
      handshakeFailed?: object;
      lateHandshake?: Promise<object | undefined>;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.timedOut = options?.timedOut ?? false;
    this.dnsQueuedMs = options?.dnsQueuedMs ?? 0;
    this.handshakeFailed = options?.handshakeFailed;
    this.lateHandshake = options?.lateHandshake;
  }
}
