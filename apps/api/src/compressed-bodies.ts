/**
 * Request bodies are read as sent, never decompressed (express.json and express.raw with
 * `inflate: false`, on the /v1 routes and the inbound sources' /in alike): body-parser would
 * inflate a 1 KB gzip body into the 1 MB limit before the caller's key or the sender's signature
 * is checked, a thousandfold of the sender's cost in the process every subscriber shares. The
 * senders with presets (sources/providers.ts) post their webhooks uncompressed.
 */
export const INFLATE_BODIES = false;

/** Why a body with a Content-Encoding other than identity was refused (body-parser's `encoding.unsupported`). */
export const COMPRESSED_BODY_MESSAGE = 'request body must not be compressed: send it without Content-Encoding';
