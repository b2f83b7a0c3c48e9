import { z } from 'zod';

/** One key of `HOOKRELAY_ENCRYPTION_KEYS`: an id stored beside every ciphertext it makes, and 32 bytes. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** AES-256 takes exactly 32 bytes. */
export const ENCRYPTION_KEY_BYTES = 32;

/** Key ids are stored beside every ciphertext and printed by `npm run rekey`: short and plain. */
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const KEY_GENERATION_HINT = 'generate a key with: openssl rand -base64 32';

/** The one line both services log at start when no keys are configured (outside production only). */
export const PLAIN_TEXT_SECRETS_WARNING =
  'HOOKRELAY_ENCRYPTION_KEYS is not set: endpoint and source secrets are stored in Redis as plain text (development only; required in production, see SECURITY.md)';

/** Adds the production rule to a config's superRefine: without keys, secrets would be stored in plain text. */
export function requireKeysInProduction(
  env: { NODE_ENV?: string; HOOKRELAY_ENCRYPTION_KEYS: readonly EncryptionKey[] },
  ctx: z.RefinementCtx,
): void {
  if (env.NODE_ENV === 'production' && env.HOOKRELAY_ENCRYPTION_KEYS.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['HOOKRELAY_ENCRYPTION_KEYS'],
      message: `is required when NODE_ENV=production; ${KEY_GENERATION_HINT} and set <id>:<key>, e.g. k1:<key>`,
    });
  }
}

export class EncryptionKeysError extends Error {
  override readonly name = 'EncryptionKeysError';
}

/**
 * Parses `<id>:<base64 of 32 bytes>[,<id>:<base64>...]`. The first key encrypts; every key
 * decrypts. Throws EncryptionKeysError naming the entry and the problem (never the key material).
 */
export function parseEncryptionKeys(text: string): EncryptionKey[] {
  const entries = text.split(',').map((e) => e.trim());
  const keys: EncryptionKey[] = [];
  entries.forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    if (entry === '') throw new EncryptionKeysError(`${where} is empty (the list is <id>:<base64>,<id>:<base64>...)`);
    const colon = entry.indexOf(':');
    if (colon < 0) throw new EncryptionKeysError(`${where} has no ":" between the key id and the key (expected <id>:<base64 of 32 bytes>)`);
    const id = entry.slice(0, colon).trim();
    const material = entry.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) throw new EncryptionKeysError(`${where}: key id must be 1 to 32 letters, digits, "_" or "-"`);
    if (!BASE64.test(material) || material.length === 0) throw new EncryptionKeysError(`key "${id}" is not base64; ${KEY_GENERATION_HINT}`);
    const key = Buffer.from(material, 'base64');
    if (key.length !== ENCRYPTION_KEY_BYTES) {
      throw new EncryptionKeysError(
        `key "${id}" is ${key.length} bytes; a key must be ${ENCRYPTION_KEY_BYTES} bytes; ${KEY_GENERATION_HINT}`,
      );
    }
    if (keys.some((k) => k.id === id)) throw new EncryptionKeysError(`key id "${id}" appears twice`);
    keys.push({ id, key });
  });
  return keys;
}

/**
 * The `HOOKRELAY_ENCRYPTION_KEYS` variable in a zod config: unset or blank gives no keys (the
 * caller decides whether that is allowed), anything else must parse.
 */
export function encryptionKeysEnv() {
  return z
    .string()
    .optional()
    .transform((value, ctx): EncryptionKey[] => {
      if (value === undefined || value.trim() === '') return [];
      try {
        return parseEncryptionKeys(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
}
