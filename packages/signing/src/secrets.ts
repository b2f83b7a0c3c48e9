import { randomBytes } from 'node:crypto';
import type { SignatureScheme } from '@hookrelay/contracts';
import { STANDARD_WEBHOOKS_SECRET_PREFIX, standardWebhooksKey } from '@hookrelay/verify';

/** 32 bytes (256 bits) matches the HMAC-SHA256 block of entropy; shorter keys weaken the MAC. */
const SECRET_BYTES = 32;

/** The spec's reference libraries generate 24-byte keys; 64 is SHA-256's block size, beyond which HMAC hashes the key. */
const STANDARD_KEY_MIN_BYTES = 24;
const STANDARD_KEY_MAX_BYTES = 64;

/** Text secrets (the HMAC key is their UTF-8 bytes): at least 16 chars to resist guessing, at most 256 to bound storage. */
const TEXT_SECRET_MIN_CHARS = 16;
const TEXT_SECRET_MAX_CHARS = 256;

/**
 * A fresh secret in the form the scheme expects: `whsec_<base64>` for standard-webhooks (receivers decode it),
 * otherwise base64url text, which survives copy-paste into vendor consoles, URLs and env files unquoted.
 */
export function newSigningSecret(scheme: SignatureScheme): string {
  const bytes = randomBytes(SECRET_BYTES);
  if (scheme === 'standard-webhooks') return `${STANDARD_WEBHOOKS_SECRET_PREFIX}${bytes.toString('base64')}`;
  return bytes.toString('base64url');
}

/** Returns why a user-supplied secret is unusable for the scheme, or null when it is fine. */
export function checkSecretForScheme(scheme: SignatureScheme, secret: string): string | null {
  if (scheme === 'standard-webhooks') {
    if (!secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX)) {
      return 'a standard-webhooks secret must start with whsec_';
    }
    let key: Buffer;
    try {
      key = standardWebhooksKey(secret);
    } catch {
      return 'the part after whsec_ must be padded base64';
    }
    if (key.length < STANDARD_KEY_MIN_BYTES || key.length > STANDARD_KEY_MAX_BYTES) {
      return `the part after whsec_ must decode to ${STANDARD_KEY_MIN_BYTES}..${STANDARD_KEY_MAX_BYTES} bytes, got ${key.length}`;
    }
    return null;
  }
  if (secret.length < TEXT_SECRET_MIN_CHARS || secret.length > TEXT_SECRET_MAX_CHARS) {
    return `a secret must be ${TEXT_SECRET_MIN_CHARS}..${TEXT_SECRET_MAX_CHARS} characters, got ${secret.length}`;
  }
  return null;
}
