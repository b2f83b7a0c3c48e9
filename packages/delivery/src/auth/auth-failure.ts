/**
 * Credentials could not be obtained for an attempt (the OAuth token endpoint failed, answered
 * without a token, or could not be reached). The attempt is recorded with errorKind 'auth' and
 * retried by the endpoint's policy. Messages never carry a secret.
 */
export class AuthFailure extends Error {
  override readonly name = 'AuthFailure';
  /** The token request ran until its deadline: the attempt waited the whole token timeout. */
  readonly timedOut: boolean;

  constructor(message: string, options?: { cause?: unknown; timedOut?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.timedOut = options?.timedOut ?? false;
  }
}
