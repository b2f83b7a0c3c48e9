import { MAX_JSON_DEPTH, tooDeepMessage } from '../json-depth';
import { jsonShapeOf, sizeRefusal } from '../json-shape';
import type { SourceFormat } from './source-input';

export type ParsedBody = { ok: true; payload: unknown } | { ok: false; reason: string };

/**
 * A form body holds at most this many fields: Twilio posts a few dozen, Symphony one. Past it the
 * body is refused, so a 1 MB body of `a&a&...` (half a million fields) is not made into an event.
 */
export const MAX_FORM_FIELDS = 10_000;

/**
 * Whether a form body has more than MAX_FORM_FIELDS `&`-separated parts, counted before anything
 * parses it: URLSearchParams reads the whole body at once, so the bound must come first (Twilio's
 * verifier sorts every field before it can compare the signature).
 */
export function tooManyFormFields(body: Buffer | string, max: number = MAX_FORM_FIELDS): boolean {
  let parts = 1;
  for (let at = body.indexOf('&'); at !== -1; at = body.indexOf('&', at + 1)) if (++parts > max) return true;
  return false;
}

/** Why such a body is refused. */
export const TOO_MANY_FORM_FIELDS = `form body has more than ${MAX_FORM_FIELDS} fields`;

/**
 * Form fields as an object (Symphony's `message=<messageML>...`). A field sent more than once
 * becomes an array of its values, in order, so nothing the sender sent is dropped. Values are
 * appended in place: copying the array on each repeat made one request of repeated names take
 * seconds of the shared process (a 60 KB body, 9 s).
 */
function formFields(text: string): ParsedBody {
  if (tooManyFormFields(text)) return { ok: false, reason: TOO_MANY_FORM_FIELDS };
  const fields: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const seen = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (seen === undefined) Object.defineProperty(fields, name, { value, enumerable: true, writable: true, configurable: true });
    else if (Array.isArray(seen)) seen.push(value);
    else fields[name] = [seen, value];
  }
  return { ok: true, payload: fields };
}

/**
 * The payload a request publishes, by the source's configured format (not the request's
 * Content-Type, which senders get wrong): parsed JSON, form fields, or `{text}`.
 */
export function parseBody(format: SourceFormat, body: Buffer): ParsedBody {
  const text = body.toString('utf8');
  switch (format) {
    case 'json': {
      // Its shape first, from the bytes: a body refused for it is never parsed (jsonShapeOf).
      const shape = jsonShapeOf(body, { maxDepth: MAX_JSON_DEPTH });
      if ('refused' in shape)
        return { ok: false, reason: `body is ${shape.refused === 'too_deep' ? tooDeepMessage() : sizeRefusal(shape.refused)}` };
      try {
        return { ok: true, payload: JSON.parse(text) as unknown };
      } catch {
        return { ok: false, reason: 'body is not valid JSON' };
      }
    }
    case 'form':
      return formFields(text);
    case 'text':
      return { ok: true, payload: { text } };
  }
}

/** Slack's Events API handshake: `{"type": "url_verification", "challenge": "..."}`. */
export function slackChallenge(payload: unknown): string | null {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const { type, challenge } = payload as { type?: unknown; challenge?: unknown };
  return type === 'url_verification' && typeof challenge === 'string' ? challenge : null;
}
