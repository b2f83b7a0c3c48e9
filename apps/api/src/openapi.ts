import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** GET /openapi.json's answer: the document's bytes and their entity tag. */
export interface OpenApiAnswer {
  body: Buffer;
  etag: string;
}

let cached: OpenApiAnswer | undefined;

/**
 * The API's OpenAPI 3.1 document, kept in the repo at apps/api/openapi.json, as the bytes to send.
 * Read on first request, not at import: a missing or broken file then fails GET /openapi.json
 * alone, not the whole API. Parsed once (a file that is not JSON is never served) and serialised
 * once: the route needs no key, and serialising the ~180 KB document per request cost ~1.1 ms of
 * the API's event loop, which anyone who can reach the API could ask for in a loop.
 */
export function openApiAnswer(): OpenApiAnswer {
  if (!cached) {
    const body = Buffer.from(JSON.stringify(JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8'))));
    cached = { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
  }
  return cached;
}
