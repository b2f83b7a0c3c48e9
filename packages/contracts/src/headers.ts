import { z } from 'zod';
import { atMostEntries } from './bounded-record';

/** RFC 9110 token characters: what a header name may be made of (so no spaces, as Zenduty says). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Field values may hold visible characters, spaces and tabs; never CR, LF or NUL (header injection). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** A header name made of RFC 9110 token characters only. */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

/** A header value of visible characters, spaces and tabs only (also undici's rule for what it sends). */
export function isHeaderValue(value: string): boolean {
  return FIELD_VALUE.test(value);
}

/** Names Hookrelay sets itself; a custom header may not replace them. Compared lower-case. */
export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  'host',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'user-agent',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-signature',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

/**
 * Hop-by-hop and message-framing headers (RFC 9110 7.6.1, 6.6; RFC 9112 9.6, 6): they describe one
 * connection or how the body is framed, which the HTTP client manages. Set by hand they break the
 * request (undici refuses `Expect`, `Upgrade`, `Keep-Alive` and `Connection` outright, so every
 * attempt failed and was retried) or reach the receiver as a lie about the body (`TE`, `Trailer`,
 * `Content-Encoding` on a body sent as is). Compared lower-case.
 */
export const HOP_BY_HOP_HEADER_NAMES: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'trailers',
  'upgrade',
  'expect',
  'content-length',
  'content-encoding',
  'host',
  'proxy-authenticate',
  'proxy-authorization',
  'http2-settings',
]);

/** Why a custom header may not use this name, or null when it may. */
export function reservedHeaderProblem(name: string): string | null {
  const lower = name.toLowerCase();
  if (HOP_BY_HOP_HEADER_NAMES.has(lower))
    return 'is a hop-by-hop or message-framing header, which the HTTP client sets; it cannot be a custom header';
  if (RESERVED_HEADER_NAMES.has(lower) || lower.startsWith('x-hookrelay-')) return 'header is set by Hookrelay and cannot be overridden';
  return null;
}

export function isReservedHeader(name: string): boolean {
  return reservedHeaderProblem(name) !== null;
}

/**
 * All of an endpoint's custom headers together, as sent (`name: value` plus CRLF per header), may
 * take at most this many bytes. 8 KB is what common servers accept for a whole request's headers
 * (nginx's default buffer, Apache's LimitRequestFieldSize); more could never be delivered, and it
 * would be stored with the endpoint and copied into every attempt.
 */
export const CUSTOM_HEADERS_MAX_BYTES = 8192;

/** The bytes one header takes on the wire: `name: value\r\n` (values are latin-1: one byte a character). */
function headerLineBytes(name: string, value: string): number {
  return name.length + value.length + 4;
}

export const customHeadersSchema = atMostEntries(
  50,
  'custom headers',
  z.record(z.string(), z.string()).superRefine((headers, ctx) => {
    const entries = Object.entries(headers);
    const total = entries.reduce((sum, [name, value]) => sum + headerLineBytes(name, value), 0);
    if (total > CUSTOM_HEADERS_MAX_BYTES) {
      ctx.addIssue({
        code: 'custom',
        message: `custom headers take ${total} bytes as sent (name: value and CRLF each); at most ${CUSTOM_HEADERS_MAX_BYTES} bytes (8 KB) per endpoint`,
      });
    }
    const seen = new Set<string>();
    for (const [name, value] of entries) {
      const reserved = TOKEN.test(name) ? reservedHeaderProblem(name) : null;
      if (!TOKEN.test(name) || name.length > 256) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'header name must be an HTTP token (no spaces or separators)' });
      } else if (reserved) {
        ctx.addIssue({ code: 'custom', path: [name], message: reserved });
      } else if (seen.has(name.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'header name repeats another in a different case' });
      }
      seen.add(name.toLowerCase());
      if (!FIELD_VALUE.test(value) || value.length > 8192) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'header value must not contain CR, LF or control characters' });
      }
    }
  }),
);

export type CustomHeaders = z.infer<typeof customHeadersSchema>;
