import { Webhook } from 'standardwebhooks';
import { checkSecretForScheme, newSigningSecret } from './secrets';

const TEXT_SCHEMES = ['x-hub-signature', 'x-signature', 'none'] as const;

describe('newSigningSecret', () => {
  it('makes whsec_ + base64 of 32 bytes for standard-webhooks, usable by the reference library', () => {
    const secret = newSigningSecret('standard-webhooks');
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(() => new Webhook(secret)).not.toThrow();
    expect(checkSecretForScheme('standard-webhooks', secret)).toBeNull();
  });

  it.each(TEXT_SCHEMES)('makes 32 random bytes as base64url text for %s', (scheme) => {
    const secret = newSigningSecret(scheme);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(checkSecretForScheme(scheme, secret)).toBeNull();
  });

  it('never repeats itself', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => newSigningSecret('x-signature')));
    expect(secrets.size).toBe(50);
  });
});

describe('checkSecretForScheme', () => {
  describe('for standard-webhooks', () => {
    it('accepts keys of 24 to 64 decoded bytes', () => {
      expect(checkSecretForScheme('standard-webhooks', `whsec_${Buffer.alloc(24, 7).toString('base64')}`)).toBeNull();
      expect(checkSecretForScheme('standard-webhooks', `whsec_${Buffer.alloc(64, 7).toString('base64')}`)).toBeNull();
    });

    it('rejects keys shorter than 24 or longer than 64 bytes', () => {
      expect(checkSecretForScheme('standard-webhooks', `whsec_${Buffer.alloc(23, 7).toString('base64')}`)).toMatch(
        /24\.\.64 bytes, got 23/,
      );
      expect(checkSecretForScheme('standard-webhooks', `whsec_${Buffer.alloc(65, 7).toString('base64')}`)).toMatch(/got 65/);
    });

    it('rejects a secret without the whsec_ prefix', () => {
      expect(checkSecretForScheme('standard-webhooks', Buffer.alloc(32, 7).toString('base64'))).toMatch(/whsec_/);
    });

    it('rejects text after whsec_ that is not padded base64, which Buffer.from would silently mangle', () => {
      const good = Buffer.alloc(32, 7).toString('base64');
      expect(checkSecretForScheme('standard-webhooks', `whsec_${good.replace(/=+$/, '')}`)).toMatch(/base64/);
      expect(checkSecretForScheme('standard-webhooks', `whsec_${good.slice(0, 10)}*${good.slice(11)}`)).toMatch(/base64/);
      expect(checkSecretForScheme('standard-webhooks', 'whsec_')).toMatch(/base64/);
    });
  });

  describe.each(TEXT_SCHEMES)('for %s', (scheme) => {
    it('accepts 16 to 256 characters', () => {
      expect(checkSecretForScheme(scheme, 'a'.repeat(16))).toBeNull();
      expect(checkSecretForScheme(scheme, 'a'.repeat(256))).toBeNull();
    });

    it('rejects fewer than 16 or more than 256 characters', () => {
      expect(checkSecretForScheme(scheme, 'a'.repeat(15))).toMatch(/16\.\.256 characters, got 15/);
      expect(checkSecretForScheme(scheme, 'a'.repeat(257))).toMatch(/got 257/);
    });
  });
});
