/** Which stored secret, for messages and logs: ids and a field name, never the value. */
export interface SecretContext {
  /** The kind of record holding it. */
  record: 'endpoint' | 'source';
  recordId: string;
  subscriberId: string;
  /** Its place in the record, e.g. `secret`, `auth.password`, `verification.headers.x-token`. */
  field: string;
}

export type SecretUnreadableReason = 'unknown_key' | 'no_keys' | 'tampered' | 'malformed';

const EXPLAINED: Record<SecretUnreadableReason, (keyId?: string) => string> = {
  unknown_key: (keyId) => `it was encrypted with key "${keyId}", which is not in HOOKRELAY_ENCRYPTION_KEYS`,
  no_keys: (keyId) => `it is encrypted (key "${keyId}") and HOOKRELAY_ENCRYPTION_KEYS is not set`,
  tampered: (keyId) => `key "${keyId}" does not authenticate it: the ciphertext was altered or belongs to another record`,
  malformed: () => 'the stored value is not a Hookrelay ciphertext',
};

/**
 * A stored secret that cannot be decrypted: its key was removed from the list too early, or the
 * ciphertext was altered or copied from another record. Never silent: the worker fails the
 * endpoint's deliveries with `secret_unreadable`, the API answers 500 `secret_unreadable` on the
 * routes that need the secret.
 */
export class SecretUnreadableError extends Error {
  override readonly name = 'SecretUnreadableError';
  readonly code = 'secret_unreadable';

  constructor(
    readonly context: SecretContext,
    readonly reason: SecretUnreadableReason,
    readonly keyId?: string,
    options?: { cause?: unknown },
  ) {
    super(`a secret of ${context.record} ${context.recordId} (${context.field}) cannot be decrypted: ${EXPLAINED[reason](keyId)}`, options);
  }
}
