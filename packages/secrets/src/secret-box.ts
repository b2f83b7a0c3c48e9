import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionKey } from './encryption-keys';
import { SecretUnreadableError, type SecretContext } from './secret-unreadable-error';

const ALGORITHM = 'aes-256-gcm';
/** 96-bit nonces, fresh and random per value (NIST SP 800-38D's recommended IV length for GCM). */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A secret as stored once keys are configured. In a record's JSON it is an object, so it can never be
 * mistaken for a secret stored in plain text (always a string, before keys were configured).
 */
export interface SealedSecret {
  alg: typeof ALGORITHM;
  /** The id of the key that sealed it, from HOOKRELAY_ENCRYPTION_KEYS. */
  kid: string;
  /** The nonce, base64. */
  iv: string;
  /** Ciphertext followed by the 16-byte GCM tag, base64. */
  ct: string;
}

/** What a secret field of a stored record holds: a sealed secret, or plain text written without keys. */
export type StoredSecret = string | SealedSecret;

export function isSealed(value: unknown): value is SealedSecret {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return v.alg === ALGORITHM && typeof v.kid === 'string' && typeof v.iv === 'string' && typeof v.ct === 'string';
}

/**
 * The record's identity bound to every ciphertext as additional authenticated data: a ciphertext
 * copied into another record, another subscriber's, or another field of the same record fails to
 * decrypt. JSON keeps the parts apart whatever characters the ids hold.
 */
function additionalData(context: SecretContext): Buffer {
  return Buffer.from(
    JSON.stringify(['hookrelay-secret-v1', context.record, context.subscriberId, context.recordId, context.field]),
    'utf8',
  );
}

/**
 * AES-256-GCM envelope of one stored secret. The first key seals; every key opens. Without keys it
 * stores plain text (development only: the services warn at start) and opens plain text.
 */
export class SecretBox {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly primary: EncryptionKey | undefined;

  constructor(keys: readonly EncryptionKey[] = []) {
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    this.primary = keys[0];
  }

  /** False when no keys are configured: secrets are stored as plain text. */
  get encrypts(): boolean {
    return this.primary !== undefined;
  }

  /** The id of the key new secrets are sealed with. */
  get primaryKeyId(): string | undefined {
    return this.primary?.id;
  }

  seal(plaintext: string, context: SecretContext): StoredSecret {
    if (!this.primary) return plaintext;
    const iv = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.primary.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(context));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { alg: ALGORITHM, kid: this.primary.id, iv: iv.toString('base64'), ct: ct.toString('base64') };
  }

  /** The plain text of a stored secret; SecretUnreadableError when it cannot be had. */
  open(stored: unknown, context: SecretContext): string {
    if (typeof stored === 'string') return stored;
    if (!isSealed(stored)) throw new SecretUnreadableError(context, 'malformed');
    const key = this.keys.get(stored.kid);
    if (!key) throw new SecretUnreadableError(context, this.primary ? 'unknown_key' : 'no_keys', stored.kid);
    const iv = Buffer.from(stored.iv, 'base64');
    const data = Buffer.from(stored.ct, 'base64');
    if (iv.length !== NONCE_BYTES || data.length < TAG_BYTES) throw new SecretUnreadableError(context, 'malformed', stored.kid);
    try {
      const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(context));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new SecretUnreadableError(context, 'tampered', stored.kid, { cause });
    }
  }

  /** True when the stored form is what seal() makes now: nothing for `npm run rekey` to do. */
  isCurrent(stored: unknown): boolean {
    if (!this.primary) return typeof stored === 'string';
    return isSealed(stored) && stored.kid === this.primary.id;
  }
}
