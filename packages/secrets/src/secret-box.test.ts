import { randomBytes } from 'node:crypto';
import { isSealed, SecretBox, type SealedSecret } from './secret-box';
import { SecretUnreadableError, type SecretContext } from './secret-unreadable-error';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const at: SecretContext = { record: 'endpoint', recordId: 'ep_a', subscriberId: 'sub_1', field: 'secret' };
const SECRET = 'lnvR-a-signing-secret-0123456789';

function unreadable(fn: () => unknown): SecretUnreadableError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SecretUnreadableError) return err;
    throw err;
  }
  throw new Error('expected SecretUnreadableError');
}

describe('SecretBox with keys', () => {
  const box = new SecretBox([k1]);

  it('seals with AES-256-GCM under the first key, with the key id beside the ciphertext, and opens it again', () => {
    const sealed = box.seal(SECRET, at) as SealedSecret;
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).toMatchObject({ alg: 'aes-256-gcm', kid: 'k1' });
    expect(JSON.stringify(sealed)).not.toContain(SECRET);
    expect(Buffer.from(sealed.iv, 'base64')).toHaveLength(12);
    // Ciphertext as long as the UTF-8 text, plus the 16-byte tag.
    expect(Buffer.from(sealed.ct, 'base64')).toHaveLength(Buffer.byteLength(SECRET) + 16);
    expect(box.open(sealed, at)).toBe(SECRET);
  });

  it('uses a fresh nonce for every value, so the same secret never seals to the same bytes', () => {
    const a = box.seal(SECRET, at) as SealedSecret;
    const b = box.seal(SECRET, at) as SealedSecret;
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it.each([
    ['another record', { ...at, recordId: 'ep_b' }],
    ['another subscriber', { ...at, subscriberId: 'sub_2' }],
    ['another field', { ...at, field: 'auth.password' }],
    ['another kind of record', { ...at, record: 'source' as const }],
  ])('does not open a ciphertext moved to %s (the identity is authenticated data)', (_what, elsewhere) => {
    const sealed = box.seal(SECRET, at);
    const err = unreadable(() => box.open(sealed, elsewhere));
    expect(err.reason).toBe('tampered');
    expect(err.code).toBe('secret_unreadable');
  });

  it('refuses a ciphertext with one bit flipped', () => {
    const sealed = box.seal(SECRET, at) as SealedSecret;
    const bytes = Buffer.from(sealed.ct, 'base64');
    bytes[0] = (bytes[0] as number) ^ 1;
    expect(unreadable(() => box.open({ ...sealed, ct: bytes.toString('base64') }, at)).reason).toBe('tampered');
  });

  it('names the missing key when the sealing key is not configured, and never the secret', () => {
    const sealed = new SecretBox([k2]).seal(SECRET, at);
    const err = unreadable(() => box.open(sealed, at));
    expect(err.reason).toBe('unknown_key');
    expect(err.keyId).toBe('k2');
    expect(err.message).toBe(
      'a secret of endpoint ep_a (secret) cannot be decrypted: it was encrypted with key "k2", which is not in HOOKRELAY_ENCRYPTION_KEYS',
    );
  });

  it('refuses values that are neither text nor a well-formed ciphertext', () => {
    expect(unreadable(() => box.open(42, at)).reason).toBe('malformed');
    expect(unreadable(() => box.open({ alg: 'aes-256-gcm', kid: 'k1', iv: 'AAAA', ct: 'AAAA' }, at)).reason).toBe('malformed');
  });

  it('opens plain text written before keys were configured', () => {
    expect(box.open(SECRET, at)).toBe(SECRET);
  });

  it('decrypts with every listed key and seals with the first (rotation)', () => {
    const old = box.seal(SECRET, at);
    const rotated = new SecretBox([k2, k1]);
    expect(rotated.open(old, at)).toBe(SECRET);
    expect((rotated.seal(SECRET, at) as SealedSecret).kid).toBe('k2');
    expect(rotated.isCurrent(old)).toBe(false);
    expect(rotated.isCurrent(rotated.seal(SECRET, at))).toBe(true);
    expect(rotated.isCurrent(SECRET)).toBe(false);
  });

  it('seals the empty string and non-ASCII text', () => {
    for (const text of ['', 'pässwörd-🔑']) expect(box.open(box.seal(text, at), at)).toBe(text);
  });
});

describe('SecretBox without keys (development)', () => {
  const box = new SecretBox();

  it('stores plain text, as before keys existed', () => {
    expect(box.encrypts).toBe(false);
    expect(box.seal(SECRET, at)).toBe(SECRET);
    expect(box.open(SECRET, at)).toBe(SECRET);
    expect(box.isCurrent(SECRET)).toBe(true);
  });

  it('says keys are missing for a secret that was encrypted', () => {
    const err = unreadable(() => box.open(new SecretBox([k1]).seal(SECRET, at), at));
    expect(err.reason).toBe('no_keys');
    expect(err.message).toContain('HOOKRELAY_ENCRYPTION_KEYS is not set');
  });
});
