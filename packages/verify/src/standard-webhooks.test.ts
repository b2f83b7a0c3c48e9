import { Webhook } from 'standardwebhooks';
import { checkStandardWebhook, standardWebhooksSignature, verifyStandardWebhook } from './standard-webhooks';

const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const PREVIOUS = `whsec_${Buffer.from('fedcba9876543210fedcba9876543210').toString('base64')}`;
const BODY = '{"type":"invoice.paid","data":{"amount":12.5,"name":"Zoë"}}';
const TS = 1_700_000_000;

function headers(secrets: string[], timestamp = TS, id = 'evt_2Xb8') {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => standardWebhooksSignature(s, id, timestamp, BODY)).join(' '),
  };
}

describe('standard-webhooks', () => {
  it("matches the reference library's signature byte for byte", () => {
    expect(standardWebhooksSignature(SECRET, 'evt_2Xb8', TS, BODY)).toBe(new Webhook(SECRET).sign('evt_2Xb8', new Date(TS * 1000), BODY));
  });

  it('is accepted by the reference library, and accepts what the reference library signs', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(new Webhook(SECRET).verify(BODY, headers([SECRET], now))).toEqual(JSON.parse(BODY));
    const theirs = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(TS),
      'webhook-signature': new Webhook(SECRET).sign('msg_1', new Date(TS * 1000), BODY),
    };
    expect(verifyStandardWebhook({ secret: SECRET, body: BODY, headers: theirs, nowSeconds: TS })).toBe(true);
  });

  describe('verifyStandardWebhook', () => {
    it('accepts a string or a Buffer body, and Node, Fetch or mixed-case headers', () => {
      const h = headers([SECRET]);
      expect(verifyStandardWebhook({ secret: SECRET, body: BODY, headers: h, nowSeconds: TS + 10 })).toBe(true);
      expect(verifyStandardWebhook({ secret: SECRET, body: Buffer.from(BODY), headers: new Headers(h), nowSeconds: TS })).toBe(true);
      const mixed = {
        'Webhook-Id': h['webhook-id'],
        'WEBHOOK-TIMESTAMP': [h['webhook-timestamp']],
        'webhook-Signature': h['webhook-signature'],
      };
      expect(verifyStandardWebhook({ secret: SECRET, body: BODY, headers: mixed, nowSeconds: TS })).toBe(true);
    });

    it('accepts a header with several signatures when one matches, whichever it is', () => {
      const both = headers([PREVIOUS, SECRET]);
      expect(verifyStandardWebhook({ secret: SECRET, body: BODY, headers: both, nowSeconds: TS })).toBe(true);
      expect(verifyStandardWebhook({ secret: PREVIOUS, body: BODY, headers: both, nowSeconds: TS })).toBe(true);
      expect(verifyStandardWebhook({ secret: [PREVIOUS], body: BODY, headers: headers([SECRET]), nowSeconds: TS })).toBe(false);
      expect(verifyStandardWebhook({ secret: [PREVIOUS, SECRET], body: BODY, headers: headers([SECRET]), nowSeconds: TS })).toBe(true);
    });

    it('rejects a tampered body, id or signature', () => {
      const h = headers([SECRET]);
      expect(verifyStandardWebhook({ secret: SECRET, body: `${BODY} `, headers: h, nowSeconds: TS })).toBe(false);
      expect(verifyStandardWebhook({ secret: SECRET, body: BODY, headers: { ...h, 'webhook-id': 'evt_other' }, nowSeconds: TS })).toBe(
        false,
      );
      const sig = h['webhook-signature'];
      const flipped = `${sig.slice(0, 5)}${sig[5] === 'A' ? 'B' : 'A'}${sig.slice(6)}`;
      expect(verifyStandardWebhook({ secret: SECRET, body: BODY, headers: { ...h, 'webhook-signature': flipped }, nowSeconds: TS })).toBe(
        false,
      );
    });

    it('holds the timestamp to five minutes either way by default, or the tolerance given', () => {
      const h = headers([SECRET]);
      const check = (nowSeconds: number, toleranceSeconds?: number) =>
        checkStandardWebhook({ secret: SECRET, body: BODY, headers: h, nowSeconds, toleranceSeconds });
      expect([check(TS + 300), check(TS - 300), check(TS + 301), check(TS - 301), check(TS + 301, 600), check(TS + 61, 60)]).toEqual([
        'ok',
        'ok',
        'timestamp_out_of_range',
        'timestamp_out_of_range',
        'ok',
        'timestamp_out_of_range',
      ]);
    });

    it('reads the system clock when no time is given', () => {
      const now = Math.floor(Date.now() / 1000);
      expect(verifyStandardWebhook({ secret: SECRET, body: BODY, headers: headers([SECRET], now) })).toBe(true);
      expect(verifyStandardWebhook({ secret: SECRET, body: BODY, headers: headers([SECRET], now - 3600) })).toBe(false);
    });

    it('says what is wrong with malformed headers instead of throwing', () => {
      const h = headers([SECRET]);
      const check = (overrides: Record<string, string>) =>
        checkStandardWebhook({ secret: SECRET, body: BODY, headers: { ...h, ...overrides }, nowSeconds: TS });
      expect(check({ 'webhook-signature': '' })).toBe('missing_signature');
      expect(check({ 'webhook-id': '' })).toBe('missing_signature');
      expect(check({ 'webhook-timestamp': 'soon' })).toBe('timestamp_out_of_range');
      expect(check({ 'webhook-timestamp': '1e9' })).toBe('timestamp_out_of_range');
      expect(check({ 'webhook-signature': 'v1,short' })).toBe('invalid_signature');
      expect(check({ 'webhook-signature': h['webhook-signature'].replace('v1,', 'v2,') })).toBe('invalid_signature');
    });

    it('throws for a secret that is not base64, a configuration error rather than a bad request', () => {
      expect(() => verifyStandardWebhook({ secret: 'whsec_not*base64', body: BODY, headers: headers([SECRET]), nowSeconds: TS })).toThrow(
        TypeError,
      );
      expect(() => verifyStandardWebhook({ secret: 'whsec_not*base64', body: BODY, headers: {}, nowSeconds: TS })).toThrow(TypeError);
    });
  });
});
