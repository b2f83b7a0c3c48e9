// fast-check arbitraries for hostile API input: wrong types, huge strings, deep nesting,
// prototype-pollution keys, invalid UTF-8, bad header names and odd URLs.
import fc from 'fast-check';

/** A request body as bytes on the wire, with the Content-Type it claims. */
export interface RawBody {
  bytes: Buffer;
  contentType?: string;
  label: string;
}

/** Counterexamples print as a label and the first bytes, not as a megabyte of numbers. */
function rawBody(bytes: Buffer, contentType: string | undefined, label: string): RawBody {
  return {
    bytes,
    contentType,
    label,
    [fc.toStringMethod]: () =>
      `${label} (${bytes.length} bytes, ${contentType ?? 'no content-type'}): ${JSON.stringify(bytes.subarray(0, 200).toString('latin1'))}`,
  } as RawBody;
}

const json = (value: unknown, label: string): RawBody => rawBody(Buffer.from(JSON.stringify(value) ?? 'null'), 'application/json', label);
const text = (body: string, label: string, contentType = 'application/json'): RawBody => rawBody(Buffer.from(body), contentType, label);

/** Values of the wrong type for almost any field. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(''),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.string({ maxLength: 20 }),
  fc.constantFrom(-1, 0, 2 ** 53, -(2 ** 53), 1e308, 1.5, '1', 'true', '[object Object]'),
);

/** Strings that are long, odd or both. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.integer({ min: 201, max: 300_000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom(
    '\u0000',
    '\r\n',
    'a\r\nInjected: 1',
    '\ud800',
    '\uffff',
    '\u202e',
    '%00',
    '${jndi:ldap://x}',
    '<script>',
    "'; DROP TABLE x;--",
    '../../etc/passwd',
  ),
);

const HOSTS = [
  '127.0.0.1',
  '2130706433',
  '0177.0.0.1',
  '0x7f.1',
  '[::1]',
  '[::ffff:127.0.0.1]',
  '[fe80::1%25eth0]',
  '[fd00::1]',
  '[2001:db8::1]',
  '169.254.169.254',
  '0.0.0.0',
  'localhost',
  'bücher.example',
  'xn--bcher-kva.example',
  'пример.испытание',
  'example.com.',
  'a'.repeat(300),
  '',
  'exa mple.com',
  'exa\tmple.com',
];

/** URLs with odd schemes, userinfo, IPv6 and IDN hosts, and plain garbage. */
export const nastyUrl: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_FLUSHALL',
    'javascript:alert(1)',
    'data:text/plain,hi',
    'ftp://example.com/',
    'ws://example.com/',
    'dict://127.0.0.1:11211/',
    'http://user:pass@example.com/',
    'https://:pass@example.com/',
    'https://us%3Aer:p%ZZ@example.com/',
    'https://a:b:c@example.com/',
    'http://[::1',
    'https://example.com:99999/',
    'https://example.com:-1/',
    '//example.com/',
    '/relative',
    'https://',
    'http://%00/',
    'https://example.com/\r\nHost: evil',
    'https://example.com/#frag',
  ),
  fc
    .record({
      scheme: fc.constantFrom('http', 'https', 'file', 'gopher', 'javascript', 'ftp', 'HTTP', 'hTtPs'),
      userinfo: fc.option(fc.constantFrom('user:pass@', 'user@', ':@', 'a%40b:c@', '%ff:%fe@'), { nil: undefined }),
      host: fc.oneof(fc.constantFrom(...HOSTS), fc.domain()),
      port: fc.option(fc.integer({ min: 0, max: 70_000 }), { nil: undefined }),
      path: fc.webPath(),
    })
    .map(({ scheme, userinfo, host, port, path }) => `${scheme}://${userinfo ?? ''}${host}${port === undefined ? '' : `:${port}`}${path}`),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.string({ maxLength: 40 }),
);

/** Custom-header maps whose names have spaces, CR/LF, reserved names or pollution keys. */
export const nastyHeaders: fc.Arbitrary<unknown> = fc.oneof(
  fc.dictionary(
    fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('X Bad', 'X-Ok\r\nInjected', 'X-A\n', 'Host', 'Content-Length', 'x-hookrelay-event-id', 'X-\u00e9', ''),
    ),
    fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('a\r\nb', '\u0000', 'ok', 'x'.repeat(9000)), wrongType),
    { maxKeys: 4 },
  ),
  wrongType,
);

/** Raw JSON texts that a JS object literal cannot produce: pollution keys as own properties. */
const POLLUTION_TEXTS = [
  '{"__proto__":{"isAdmin":true,"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"__proto__":null}',
  '{"name":"x","__proto__":{"role":"admin"}}',
  '{"url":"http://127.0.0.1/","__proto__":{"status":"active"}}',
  '{"events":[{"__proto__":{"type":"custom.x"},"payload":{}}]}',
  '{"type":"custom.x","payload":{"__proto__":{"polluted":1}},"__proto__":{"idempotencyKey":"k"}}',
  '{"headers":{"__proto__":"x","constructor":"y"}}',
  '{"toString":"x","valueOf":1,"hasOwnProperty":null}',
];

function deep(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** Any hostile body, for any route; `shaped` supplies route-shaped objects with hostile fields. */
export function hostileBody(shaped: fc.Arbitrary<unknown>): fc.Arbitrary<RawBody> {
  return fc.oneof(
    { weight: 6, arbitrary: shaped.map((v) => json(v, 'shaped')) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => json(v, 'json')) },
    { weight: 1, arbitrary: fc.constantFrom(...POLLUTION_TEXTS).map((t) => text(t, 'pollution')) },
    { weight: 1, arbitrary: fc.integer({ min: 50, max: 100_000 }).map((d) => text(deep(d, '[', ']'), `nested-array-${d}`)) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 50, max: 50_000 }).map((d) => text(`${'{"a":'.repeat(d)}1${'}'.repeat(d)}`, `nested-object-${d}`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ minLength: 1, maxLength: 64 })
        .map((b) =>
          rawBody(
            Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(b), Buffer.from('"}')]),
            'application/json',
            'invalid-utf8',
          ),
        ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 1_048_577, max: 1_300_000 }).map((n) => text(`{"name":"${'x'.repeat(n)}"}`, 'over-1mb')) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        text('', 'empty'),
        text('{', 'truncated'),
        text('{"name":"x"', 'truncated-object'),
        text('nul\u0000l', 'nul-byte'),
        text('{"name":"x"}', 'text/plain', 'text/plain'),
        text('{"name":"x"}', 'no content-type', ''),
        text('{"name":"x"}', 'latin1', 'application/json; charset=latin1'),
        text('{"name":"x"}', 'utf-16', 'application/json; charset=utf-16'),
        text('{"name":"x"}', 'gibberish charset', 'application/json; charset=nope'),
        text('name=x', 'form', 'application/x-www-form-urlencoded'),
        text('[]', 'array'),
        text('null', 'null'),
        text('"string"', 'string'),
        text('1e999', 'huge number'),
      ),
    },
  );
}

/** A path segment: usually the real id, sometimes something hostile (already URL-encoded or not). */
export function pathId(real: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(real) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s) || 'x') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '%',
        '%zz',
        '%E0%A4%A',
        '%C0%AF',
        'a%00b',
        '%2e%2e',
        '__proto__',
        'constructor',
        `${real}x`,
        real.toUpperCase(),
        'x'.repeat(3000),
      ),
    },
  );
}
