import { signatureHeaders } from './signature-headers';
import { hubSignature, verifyHubSignature } from './x-hub-signature';

// GitHub's documented vector ("Validating webhook deliveries"), also listed in CONTRACTS.md.
const GITHUB_SECRET = "It's a Secret to Everybody";
const GITHUB_BODY = 'Hello, World!';
const GITHUB_HEX = '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

function sign(body: string, algorithm: 'sha256' | 'sha512' | 'sha1', prefix: boolean, secrets = [GITHUB_SECRET]) {
  return signatureHeaders(
    { scheme: 'x-hub-signature', algorithm, prefix },
    { eventId: 'evt_1', timestampSeconds: 1_700_000_000, body, secrets },
  );
}

describe('x-hub-signature', () => {
  describe('signing', () => {
    it('matches GitHub\'s documented vector in the prefixed form', () => {
      expect(sign(GITHUB_BODY, 'sha256', true)).toEqual({ 'x-hub-signature': `sha256=${GITHUB_HEX}` });
    });

    it('sends bare lowercase hex by default, as Webex Connect compares it', () => {
      expect(sign(GITHUB_BODY, 'sha256', false)).toEqual({ 'x-hub-signature': GITHUB_HEX });
    });

    it('signs the UTF-8 bytes of a non-ASCII body', () => {
      const body = '{"name":"Zoë 😀"}';
      expect(hubSignature(GITHUB_SECRET, body, { algorithm: 'sha256', prefix: false })).toBe(
        hubSignature(GITHUB_SECRET, Buffer.from(body, 'utf8'), { algorithm: 'sha256', prefix: false }),
      );
      expect(verifyHubSignature({ secret: GITHUB_SECRET, body: Buffer.from(body), header: sign(body, 'sha256', false)['x-hub-signature']! })).toBe(true);
    });

    it('signs with the current secret only during rotation, because the header holds one value', () => {
      const rotated = sign(GITHUB_BODY, 'sha256', false, ['new-secret-0123456789', GITHUB_SECRET]);
      expect(rotated['x-hub-signature']).not.toBe(GITHUB_HEX);
      expect(verifyHubSignature({ secret: 'new-secret-0123456789', body: GITHUB_BODY, header: rotated['x-hub-signature']! })).toBe(true);
    });

    it('refuses to sign without a secret', () => {
      expect(() => sign(GITHUB_BODY, 'sha256', false, [])).toThrow(/at least one secret/);
    });
  });

  describe('verification', () => {
    it('accepts the documented vector in bare and prefixed form', () => {
      expect(verifyHubSignature({ secret: GITHUB_SECRET, body: GITHUB_BODY, header: GITHUB_HEX })).toBe(true);
      expect(verifyHubSignature({ secret: GITHUB_SECRET, body: GITHUB_BODY, header: `sha256=${GITHUB_HEX}` })).toBe(true);
    });

    it.each(['sha512', 'sha1'] as const)('round-trips %s in both forms', (algorithm) => {
      for (const prefix of [false, true]) {
        const header = sign(GITHUB_BODY, algorithm, prefix)['x-hub-signature']!;
        expect(header.startsWith(`${algorithm}=`)).toBe(prefix);
        expect(verifyHubSignature({ secret: GITHUB_SECRET, body: GITHUB_BODY, header, algorithm })).toBe(true);
      }
    });

    it('rejects a body with one byte changed', () => {
      expect(verifyHubSignature({ secret: GITHUB_SECRET, body: 'Hello, World?', header: GITHUB_HEX })).toBe(false);
    });

    it('rejects a header with one hex digit changed', () => {
      const tampered = `${GITHUB_HEX.slice(0, -1)}8`;
      expect(verifyHubSignature({ secret: GITHUB_SECRET, body: GITHUB_BODY, header: tampered })).toBe(false);
    });

    it('rejects the wrong secret', () => {
      expect(verifyHubSignature({ secret: 'not the secret', body: GITHUB_BODY, header: GITHUB_HEX })).toBe(false);
    });

    it('returns false instead of throwing for a header of the wrong length', () => {
      expect(verifyHubSignature({ secret: GITHUB_SECRET, body: GITHUB_BODY, header: GITHUB_HEX.slice(0, 10) })).toBe(false);
      expect(verifyHubSignature({ secret: GITHUB_SECRET, body: GITHUB_BODY, header: '' })).toBe(false);
      expect(verifyHubSignature({ secret: GITHUB_SECRET, body: GITHUB_BODY, header: `${GITHUB_HEX}00` })).toBe(false);
    });

    it('rejects a prefix that disagrees with the expected algorithm, so a sender cannot downgrade to sha1', () => {
      const sha1 = sign(GITHUB_BODY, 'sha1', true)['x-hub-signature']!;
      expect(verifyHubSignature({ secret: GITHUB_SECRET, body: GITHUB_BODY, header: sha1, algorithm: 'sha256' })).toBe(false);
      expect(verifyHubSignature({ secret: GITHUB_SECRET, body: GITHUB_BODY, header: `md5=${GITHUB_HEX}` })).toBe(false);
    });

    it('rejects a sha512 signature checked as the default sha256', () => {
      const sha512 = sign(GITHUB_BODY, 'sha512', false)['x-hub-signature']!;
      expect(verifyHubSignature({ secret: GITHUB_SECRET, body: GITHUB_BODY, header: sha512 })).toBe(false);
    });
  });
});
