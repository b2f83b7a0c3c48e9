import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { encryptionKeysEnv, parseEncryptionKeys } from './encryption-keys';

const b64 = (n: number) => randomBytes(n).toString('base64');

describe('parseEncryptionKeys', () => {
  it('reads <id>:<base64 of 32 bytes> entries in order, first one first', () => {
    const a = b64(32);
    const b = b64(32);
    const keys = parseEncryptionKeys(` k2:${a} , k1:${b}`);
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(keys[0]?.key.equals(Buffer.from(a, 'base64'))).toBe(true);
    expect(keys[1]?.key).toHaveLength(32);
  });

  it.each([
    ['an empty entry', `k1:${b64(32)},`, 'entry 2 is empty'],
    ['no colon', b64(32), 'entry 1 has no ":"'],
    ['an empty id', `:${b64(32)}`, 'entry 1: key id must be'],
    ['an id with spaces', `my key:${b64(32)}`, 'entry 1: key id must be'],
    ['not base64', 'k1:not base64!', 'key "k1" is not base64'],
    ['16 bytes', `k1:${b64(16)}`, 'key "k1" is 16 bytes; a key must be 32 bytes'],
    ['64 bytes', `k1:${b64(64)}`, 'key "k1" is 64 bytes'],
    ['a duplicate id', `k1:${b64(32)},k1:${b64(32)}`, 'key id "k1" appears twice'],
  ])('refuses %s, naming the problem', (_what, text, message) => {
    expect(() => parseEncryptionKeys(text)).toThrow(message);
  });

  it('never puts key material in its messages', () => {
    const material = b64(16);
    expect(() => parseEncryptionKeys(`k1:${material}`)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(material) }),
    );
  });
});

describe('encryptionKeysEnv', () => {
  const schema = z.object({ HOOKRELAY_ENCRYPTION_KEYS: encryptionKeysEnv() });

  it('gives no keys when unset or blank', () => {
    expect(schema.parse({}).HOOKRELAY_ENCRYPTION_KEYS).toEqual([]);
    expect(schema.parse({ HOOKRELAY_ENCRYPTION_KEYS: ' ' }).HOOKRELAY_ENCRYPTION_KEYS).toEqual([]);
  });

  it('reports a malformed list as an issue on the variable', () => {
    const result = schema.safeParse({ HOOKRELAY_ENCRYPTION_KEYS: `k1:${b64(31)}` });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ['HOOKRELAY_ENCRYPTION_KEYS'], message: expect.stringContaining('31 bytes') });
  });
});
