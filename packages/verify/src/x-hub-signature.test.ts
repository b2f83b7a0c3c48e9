import { hubSignature, verifyHubSignature } from './x-hub-signature';

// GitHub's documented vector ("Validating webhook deliveries"), also listed in CONTRACTS.md.
const SECRET = "It's a Secret to Everybody";
const BODY = 'Hello, World!';
const HEX = '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

const signed = (algorithm: 'sha256' | 'sha512' | 'sha1', prefix = false, secret = SECRET) =>
  hubSignature(secret, BODY, { algorithm, prefix });

describe('x-hub-signature', () => {
  it("matches GitHub's documented vector, bare and prefixed", () => {
    expect(signed('sha256')).toBe(HEX);
    expect(signed('sha256', true)).toBe(`sha256=${HEX}`);
  });

  it('signs the UTF-8 bytes of a string, the same as the bytes themselves', () => {
    const body = '{"name":"Zoë 😀"}';
    expect(hubSignature(SECRET, body, { algorithm: 'sha256', prefix: false })).toBe(
      hubSignature(SECRET, new TextEncoder().encode(body), { algorithm: 'sha256', prefix: false }),
    );
  });

  describe('verifyHubSignature', () => {
    it('accepts the vector in bare, prefixed and upper-case form, with a string or a Buffer body', () => {
      for (const header of [HEX, `sha256=${HEX}`, HEX.toUpperCase(), ` ${HEX} `]) {
        expect(verifyHubSignature({ secret: SECRET, body: BODY, header })).toBe(true);
        expect(verifyHubSignature({ secret: SECRET, body: Buffer.from(BODY), header })).toBe(true);
      }
    });

    it('accepts sha512 bare (told apart by its length) and prefixed, without being told the algorithm', () => {
      expect(verifyHubSignature({ secret: SECRET, body: BODY, header: signed('sha512') })).toBe(true);
      expect(verifyHubSignature({ secret: SECRET, body: BODY, header: signed('sha512', true) })).toBe(true);
    });

    it('accepts sha1 only when asked for by name, so a sender cannot fall back to it', () => {
      expect(verifyHubSignature({ secret: SECRET, body: BODY, header: signed('sha1', true) })).toBe(false);
      expect(verifyHubSignature({ secret: SECRET, body: BODY, header: signed('sha1') })).toBe(false);
      expect(verifyHubSignature({ secret: SECRET, body: BODY, header: signed('sha1', true), algorithm: 'sha1' })).toBe(true);
      expect(verifyHubSignature({ secret: SECRET, body: BODY, header: signed('sha1'), algorithm: 'sha1' })).toBe(true);
    });

    it('rejects a header naming another algorithm than the one expected', () => {
      expect(verifyHubSignature({ secret: SECRET, body: BODY, header: signed('sha512', true), algorithm: 'sha256' })).toBe(false);
      expect(verifyHubSignature({ secret: SECRET, body: BODY, header: signed('sha512'), algorithm: 'sha256' })).toBe(false);
      expect(verifyHubSignature({ secret: SECRET, body: BODY, header: `md5=${HEX}` })).toBe(false);
    });

    it('rejects one changed byte of the body, one changed digit of the header, and the wrong secret', () => {
      expect(verifyHubSignature({ secret: SECRET, body: 'Hello, World?', header: HEX })).toBe(false);
      expect(verifyHubSignature({ secret: SECRET, body: BODY, header: `${HEX.slice(0, -1)}8` })).toBe(false);
      expect(verifyHubSignature({ secret: 'not the secret', body: BODY, header: HEX })).toBe(false);
    });

    it('returns false instead of throwing for a header that is empty, too short, too long or not hex', () => {
      for (const header of ['', HEX.slice(0, 10), `${HEX}00`, 'sha256=', 'z'.repeat(64), 'sha256=sha256=abc']) {
        expect(verifyHubSignature({ secret: SECRET, body: BODY, header })).toBe(false);
      }
    });

    it('accepts any of several secrets (old and new during a rotation), and no other', () => {
      const rotated = signed('sha256', false, 'new-secret-0123456789');
      expect(verifyHubSignature({ secret: [SECRET, 'new-secret-0123456789'], body: BODY, header: rotated })).toBe(true);
      expect(verifyHubSignature({ secret: [SECRET, 'new-secret-0123456789'], body: BODY, header: HEX })).toBe(true);
      expect(verifyHubSignature({ secret: [SECRET, 'other-secret-0123456789'], body: BODY, header: rotated })).toBe(false);
    });

    it('throws for no secret at all: a configuration bug, not a bad request', () => {
      expect(() => verifyHubSignature({ secret: '', body: BODY, header: HEX })).toThrow(TypeError);
      expect(() => verifyHubSignature({ secret: [], body: BODY, header: HEX })).toThrow(TypeError);
    });
  });
});
