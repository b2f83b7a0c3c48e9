import { runPython } from '@hookrelay/testing/src/python/run-python';
import { bodyForScheme, signatureHeaders } from './signature-headers';
import { verifyZenduty } from '@hookrelay/verify';
import { ZENDUTY_SAMPLE_JSON, ZENDUTY_SAMPLE_PYTHON_DUMPS, ZENDUTY_UNICODE_JSON } from './zenduty-sample.fixture';

const CONFIG = { scheme: 'x-signature' } as const;
const KEY = 'zd-signing-key-0123456789abcdef';

// Zenduty guide's compute_signature, applied the way its receivers apply it: to the parsed request body.
const ZENDUTY_SNIPPET = `
import base64, hashlib, hmac, json, sys
def compute_signature(data, key):
    key = bytes(key, "utf-8")
    message = bytes(json.dumps(data), "utf-8")
    signature = hmac.new(key, message, hashlib.sha256).digest()
    computed_hmac = base64.b64encode(signature)
    return computed_hmac
for body in sys.argv[2:]:
    print(compute_signature(json.loads(body.encode("utf-8")), sys.argv[1]).decode("ascii"))
`;

function sign(body: string, secrets = [KEY]): string {
  return signatureHeaders(CONFIG, { eventId: 'evt_1', timestampSeconds: 1_700_000_000, body, secrets })['X-SIGNATURE']!;
}

describe('x-signature (Zenduty)', () => {
  it('rewrites the stored payload into Python json.dumps form before signing', () => {
    expect(bodyForScheme(CONFIG, ZENDUTY_SAMPLE_JSON)).toBe(ZENDUTY_SAMPLE_PYTHON_DUMPS);
  });

  it('leaves the payload untouched for every other scheme', () => {
    for (const config of [
      { scheme: 'x-hub-signature', algorithm: 'sha256', prefix: false },
      { scheme: 'standard-webhooks' },
      { scheme: 'none' },
    ] as const) {
      expect(bodyForScheme(config, ZENDUTY_UNICODE_JSON)).toBe(ZENDUTY_UNICODE_JSON);
    }
  });

  it('sends base64 HMAC-SHA256 in X-SIGNATURE that verifies over the raw body bytes', () => {
    const body = bodyForScheme(CONFIG, ZENDUTY_UNICODE_JSON);
    const header = sign(body);
    expect(header).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(verifyZenduty({ secret: KEY, body: Buffer.from(body, 'utf8'), header })).toBe(true);
  });

  it("equals what Zenduty's Python snippet computes from the parsed body, with unicode and floats", () => {
    const bodies = [ZENDUTY_SAMPLE_JSON, ZENDUTY_UNICODE_JSON].map((p) => bodyForScheme(CONFIG, p));
    // One interpreter for every body: Python start-up dominates the cost of this test.
    const python = runPython(ZENDUTY_SNIPPET, [KEY, ...bodies])
      .trim()
      .split('\n');
    expect(python).toEqual(bodies.map((b) => sign(b)));
  });

  it('would not match the Python snippet if the compact stored JSON were sent as is', () => {
    // Why bodyForScheme exists: the snippet re-serialises, so compact JSON signs differently.
    expect(runPython(ZENDUTY_SNIPPET, [KEY, ZENDUTY_UNICODE_JSON]).trim()).not.toBe(sign(ZENDUTY_UNICODE_JSON));
  });

  it('signs with the current secret only', () => {
    const body = bodyForScheme(CONFIG, ZENDUTY_SAMPLE_JSON);
    const header = sign(body, ['new-key-0123456789abcdef', KEY]);
    expect(verifyZenduty({ secret: 'new-key-0123456789abcdef', body, header })).toBe(true);
    expect(verifyZenduty({ secret: KEY, body, header })).toBe(false);
  });

  it('refuses to sign without a secret', () => {
    expect(() => sign('{}', [])).toThrow(/at least one secret/);
  });
});
