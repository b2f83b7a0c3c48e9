import { Webhook } from 'standardwebhooks';
import { signatureHeaders } from './signature-headers';
import { newSigningSecret } from './secrets';

const CONFIG = { scheme: 'standard-webhooks' } as const;
const BODY = '{"type":"invoice.paid","data":{"amount":12.5,"name":"Zoë"}}';

// The reference library reads the wall clock when verifying, so sign at "now" for those checks.
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function headersFor(secrets: string[], timestampSeconds = nowSeconds(), body = BODY) {
  const h = signatureHeaders(CONFIG, { eventId: 'evt_2Xb8', timestampSeconds, body, secrets });
  return { 'webhook-id': h['webhook-id']!, 'webhook-timestamp': h['webhook-timestamp']!, 'webhook-signature': h['webhook-signature']! };
}

describe('standard-webhooks', () => {
  const current = newSigningSecret('standard-webhooks');
  const previous = newSigningSecret('standard-webhooks');

  it('sends the event id and the injected timestamp', () => {
    const headers = headersFor([current], 1_700_000_000);
    expect(headers['webhook-id']).toBe('evt_2Xb8');
    expect(headers['webhook-timestamp']).toBe('1700000000');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('is accepted by the reference standardwebhooks library', () => {
    const headers = headersFor([current]);
    expect(new Webhook(current).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it("matches the reference library's own signature byte for byte", () => {
    const ts = 1_700_000_000;
    const expected = new Webhook(current).sign('evt_2Xb8', new Date(ts * 1000), BODY);
    expect(headersFor([current], ts)['webhook-signature']).toBe(expected);
  });

  it('signs with every secret in rotation, current first, each verifiable alone by the reference library', () => {
    const headers = headersFor([current, previous]);
    const parts = headers['webhook-signature'].split(' ');
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe(headersFor([current], Number(headers['webhook-timestamp']))['webhook-signature']);
    expect(() => new Webhook(current).verify(BODY, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(BODY, headers)).not.toThrow();
    expect(() => new Webhook(newSigningSecret('standard-webhooks')).verify(BODY, headers)).toThrow(/No matching signature/);
  });

  it('is rejected by the reference library when the body is tampered with', () => {
    const headers = headersFor([current]);
    expect(() => new Webhook(current).verify(BODY.replace('12.5', '13.5'), headers)).toThrow(/No matching signature/);
  });
});
