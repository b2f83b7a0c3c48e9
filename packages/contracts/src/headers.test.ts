import { customHeadersSchema, isReservedHeader } from './headers';

describe('custom headers', () => {
  // Hop-by-hop (RFC 9110 7.6.1) and framing headers: undici refused Expect, Upgrade and Keep-Alive on
  // every attempt; TE, Trailer and Proxy-Connection went through to receivers.
  it.each([
    'Expect',
    'expect',
    'Upgrade',
    'Keep-Alive',
    'TE',
    'te',
    'Trailer',
    'Proxy-Connection',
    'Connection',
    'Transfer-Encoding',
    'Content-Length',
    'Content-Encoding',
    'Host',
    'HTTP2-Settings',
    'Proxy-Authorization',
  ])('refuses %s, naming it', (name) => {
    const result = customHeadersSchema.safeParse({ 'X-Team': 'payments', [name]: 'x' });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: [name], message: expect.stringMatching(/hop-by-hop or message-framing header|set by Hookrelay/) }),
    ]);
    expect(isReservedHeader(name)).toBe(true);
  });

  it('accepts ordinary custom headers', () => {
    expect(customHeadersSchema.safeParse({ 'X-Team': 'payments', Authorization2: 'x', 'X-Expected': '1', 'Te-Amo': 'y' }).success).toBe(
      true,
    );
  });
});
