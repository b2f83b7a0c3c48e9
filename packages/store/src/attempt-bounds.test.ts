import fc from 'fast-check';
import type { AttemptRecord } from '@hookrelay/contracts';
import { ATTEMPT_LIMITS, boundAttempt, boundRequestHeaders, cutString, OMITTED_HEADERS_KEY } from './attempt-bounds';

const utf8 = (s: string) => Buffer.byteLength(s);
const json = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/** The headers the worker sends on every attempt, besides an endpoint's own. */
const OURS = {
  'content-type': 'application/json',
  'user-agent': 'Hookrelay/0.1.0',
  'x-hookrelay-event-id': 'evt_01hzx3q7k2v9m4c8d6e5f3g2h1',
  'x-hookrelay-event-type': 'custom.order.paid',
  'x-hookrelay-delivery-id': 'dlv_0123456789abcdef0123456789abcdef',
  'x-hookrelay-attempt': '1',
  'x-hub-signature': 'a'.repeat(128),
};

function attempt(overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    attempt: 1,
    startedAt: 1_800_000_000_000,
    durationMs: 12,
    outcome: 'delivered',
    statusCode: 200,
    requestHeaders: { ...OURS },
    ...overrides,
  };
}

describe('attempt records are bounded', () => {
  it('keeps ordinary headers, bodies and messages as they are', () => {
    const a = attempt({ responseBody: '{"ok":true}', requestHeaders: { ...OURS, authorization: '[redacted]', 'x-tenant': 'acme' } });
    expect(boundAttempt(a)).toEqual(a);
    expect(boundAttempt(attempt({ errorMessage: 'connect ECONNREFUSED 127.0.0.1:9', responseBody: undefined }))).toMatchObject({
      errorMessage: 'connect ECONNREFUSED 127.0.0.1:9',
    });
  });

  it('cuts each header value to 256 bytes, marked with an ellipsis', () => {
    const bounded = boundRequestHeaders({ ...OURS, 'x-long': 'v'.repeat(300), 'x-wide': 'é'.repeat(200) });
    expect(utf8(bounded['x-long']!)).toBe(256);
    expect(bounded['x-long']).toBe(`${'v'.repeat(253)}…`);
    expect(utf8(bounded['x-wide']!)).toBeLessThanOrEqual(256);
    expect(bounded['x-wide']!.endsWith('…')).toBe(true);
    expect(bounded['x-hub-signature']).toBe(OURS['x-hub-signature']);
  });

  it("keeps 50 custom headers of 8 KB to 2 KB, Hookrelay's own headers first, and says how many it left out", () => {
    const custom = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`x-custom-${i}`, 'v'.repeat(8192)]));
    const bounded = boundRequestHeaders({ ...custom, ...OURS, authorization: '[redacted]' });
    expect(json(bounded)).toBeLessThanOrEqual(ATTEMPT_LIMITS.requestHeadersJsonBytes);
    expect(bounded).toMatchObject({ ...OURS, authorization: '[redacted]' });
    const keptCustom = Object.keys(bounded).filter((k) => k.startsWith('x-custom-'));
    expect(keptCustom.length).toBeGreaterThan(0);
    expect(bounded[OMITTED_HEADERS_KEY]).toBe(`${50 - keptCustom.length} headers over the 2 KB record limit`);
    // The order is the order they were sent in.
    expect(Object.keys(bounded).slice(0, keptCustom.length)).toEqual(keptCustom);
  });

  it('holds for any headers: 2 KB of JSON, 256-byte values, each a prefix of what was sent', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 600 }), { maxKeys: 30 }),
        (headers) => {
          const bounded = boundRequestHeaders(headers);
          expect(json(bounded)).toBeLessThanOrEqual(ATTEMPT_LIMITS.requestHeadersJsonBytes);
          for (const [name, value] of Object.entries(bounded)) {
            if (name === OMITTED_HEADERS_KEY) continue;
            expect(utf8(value)).toBeLessThanOrEqual(ATTEMPT_LIMITS.headerValueBytes);
            expect(headers[name]!.startsWith(value.endsWith('…') && value !== headers[name] ? value.slice(0, -1) : value)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps a response preview within 4 KB of UTF-8 and 8 KB of escaped JSON', () => {
    const controls = '\u0001'.repeat(4096);
    expect(Buffer.byteLength(JSON.stringify(controls))).toBe(4096 * 6 + 2);
    const bounded = boundAttempt(attempt({ responseBody: controls }));
    expect(json(bounded.responseBody)).toBeLessThanOrEqual(ATTEMPT_LIMITS.responseBodyJsonBytes + 2);
    // 4 KB of undecodable bytes became 4,096 replacement characters: 12 KB of UTF-8.
    const replaced = Buffer.alloc(4096, 0xff).toString('utf8');
    expect(utf8(boundAttempt(attempt({ responseBody: replaced })).responseBody!)).toBeLessThanOrEqual(ATTEMPT_LIMITS.responseBodyBytes);
    // A JSON answer of 4 KB, quotes and all, is kept whole.
    const answer = JSON.stringify({ items: Array.from({ length: 300 }, (_, i) => `i${i}`) }).slice(0, 4096);
    expect(boundAttempt(attempt({ responseBody: answer })).responseBody).toBe(answer);
  });

  it('keeps an error message within 512 bytes of JSON', () => {
    const bounded = boundAttempt(attempt({ statusCode: undefined, errorKind: 'network', errorMessage: '"'.repeat(300) }));
    expect(json(bounded.errorMessage)).toBeLessThanOrEqual(ATTEMPT_LIMITS.errorMessageJsonBytes);
  });

  it('never splits a surrogate pair', () => {
    const cut = cutString('😀'.repeat(100), 10, 100, '');
    expect(cut).toBe('😀😀');
    expect(cutString('a😀', 4, 100)).toBe('a');
  });
});
