import { startZendutyPythonReceiver, type ZendutyPythonReceiver } from '@hookrelay/testing/src/python/zenduty-receiver';
import { bodyForScheme, signatureHeaders } from './signature-headers';
import { ZENDUTY_UNICODE_JSON } from './zenduty-sample.fixture';

const CONFIG = { scheme: 'x-signature' } as const;
const KEY = 'zd-signing-key-0123456789abcdef';

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}/zenduty`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, json: await res.json() };
}

function signed(body: string): Record<string, string> {
  return signatureHeaders(CONFIG, { eventId: 'unused', timestampSeconds: 1_700_000_000, body, secrets: [KEY] });
}

describe("a Python receiver running Zenduty's verification snippet", () => {
  let receiver: ZendutyPythonReceiver;

  beforeAll(async () => {
    receiver = await startZendutyPythonReceiver(KEY);
  });

  afterAll(async () => {
    await receiver.stop();
  });

  it('accepts our body and X-SIGNATURE, and rejects the same header on a tampered body', async () => {
    const body = bodyForScheme(CONFIG, ZENDUTY_UNICODE_JSON);
    const headers = signed(body);

    const good = await post(receiver.url, body, { ...headers, 'X-Hookrelay-Event-Id': 'evt_good' });
    expect(good).toEqual({ status: 200, json: { verified: true } });

    const tampered = body.replace('"incident_number": 61', '"incident_number": 62');
    expect(tampered).not.toBe(body);
    const bad = await post(receiver.url, tampered, { ...headers, 'X-Hookrelay-Event-Id': 'evt_tampered' });
    expect(bad).toEqual({ status: 401, json: { verified: false } });

    await receiver.waitFor(2);
    expect(receiver.results.slice(0, 2)).toEqual([
      { verified: true, event_id: 'evt_good' },
      { verified: false, event_id: 'evt_tampered' },
    ]);
  });

  it('rejects compact JSON signed over its raw bytes, which is why x-signature rewrites the body', async () => {
    const before = receiver.results.length;
    const res = await post(receiver.url, ZENDUTY_UNICODE_JSON, signed(ZENDUTY_UNICODE_JSON));
    expect(res.status).toBe(401);
    await receiver.waitFor(before + 1);
    expect(receiver.results[before]).toEqual({ verified: false, event_id: null });
  });

  it('rejects a request with no X-SIGNATURE or a body that is not JSON', async () => {
    const body = bodyForScheme(CONFIG, ZENDUTY_UNICODE_JSON);
    expect((await post(receiver.url, body, {})).status).toBe(401);
    expect((await post(receiver.url, 'not json', signed(body))).status).toBe(401);
  });
});
