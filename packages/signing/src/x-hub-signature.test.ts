import { hubSignature, verifyHubSignature } from '@hookrelay/verify';
import { signatureHeaders } from './signature-headers';

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
    it("matches GitHub's documented vector in the prefixed form", () => {
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
      expect(
        verifyHubSignature({ secret: GITHUB_SECRET, body: Buffer.from(body), header: sign(body, 'sha256', false)['x-hub-signature']! }),
      ).toBe(true);
    });

    it('signs with the current secret only during rotation, because the header holds one value', () => {
      const rotated = sign(GITHUB_BODY, 'sha256', false, ['new-secret-0123456789', GITHUB_SECRET]);
      expect(rotated['x-hub-signature']).not.toBe(GITHUB_HEX);
      expect(verifyHubSignature({ secret: 'new-secret-0123456789', body: GITHUB_BODY, header: rotated['x-hub-signature']! })).toBe(true);
    });

    it('refuses to sign without a secret', () => {
      expect(() => sign(GITHUB_BODY, 'sha256', false, [])).toThrow(/at least one secret/);
    });

    it.each(['sha512', 'sha1'] as const)('signs with %s in both forms, verifiable by @hookrelay/verify', (algorithm) => {
      for (const prefix of [false, true]) {
        const header = sign(GITHUB_BODY, algorithm, prefix)['x-hub-signature']!;
        expect(header.startsWith(`${algorithm}=`)).toBe(prefix);
        expect(verifyHubSignature({ secret: GITHUB_SECRET, body: GITHUB_BODY, header, algorithm })).toBe(true);
      }
    });
  });
});
