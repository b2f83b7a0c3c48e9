import { createHmac } from 'node:crypto';
import { verifyZenduty, zendutySignature } from './x-signature';

const KEY = 'zd-signing-key-0123456789abcdef';
// What Hookrelay sends a Zenduty endpoint: the payload in Python's json.dumps form.
const BODY = '{"payload": {"event_type": "triggered", "incident": {"title": "Disk full \\u00e9", "priority": 1}}}';

describe('x-signature (Zenduty)', () => {
  it("is base64 HMAC-SHA256 keyed with the secret's UTF-8 bytes, as Zenduty's compute_signature", () => {
    expect(zendutySignature(KEY, BODY)).toBe(createHmac('sha256', Buffer.from(KEY, 'utf8')).update(BODY).digest('base64'));
    expect(zendutySignature(KEY, BODY)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('verifies over the raw body, a string or bytes', () => {
    const header = zendutySignature(KEY, BODY);
    expect(verifyZenduty({ secret: KEY, body: BODY, header })).toBe(true);
    expect(verifyZenduty({ secret: KEY, body: Buffer.from(BODY, 'utf8'), header })).toBe(true);
  });

  it('rejects a tampered body, a wrong key and a malformed header without throwing', () => {
    const header = zendutySignature(KEY, BODY);
    expect(verifyZenduty({ secret: KEY, body: BODY.replace('"priority": 1', '"priority": 2'), header })).toBe(false);
    expect(verifyZenduty({ secret: `${KEY}x`, body: BODY, header })).toBe(false);
    for (const bad of [header.slice(0, 20), '', `${header}=`, 'not base64 at all!'])
      expect(verifyZenduty({ secret: KEY, body: BODY, header: bad })).toBe(false);
  });

  it('accepts any of several secrets', () => {
    const header = zendutySignature('new-key-0123456789abcdef', BODY);
    expect(verifyZenduty({ secret: [KEY, 'new-key-0123456789abcdef'], body: BODY, header })).toBe(true);
    expect(verifyZenduty({ secret: [KEY], body: BODY, header })).toBe(false);
  });
});
