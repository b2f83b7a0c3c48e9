/**
 * Request bodies are read as sent, never decompressed (express.json and express.raw with
 * `inflate: false`, on the /v1 routes and the inbound sources' /in alike): body-parser would
 * inflate a 1 KB gzip body into the 1 MB limit before a sender's signature is checked (on /v1 the
 * key is checked before the body is read, but a key holder too would cost a thousandfold of its
 * own cost), in the process every subscriber shares. The senders with presets
 * (sources/providers.ts) post their webhooks uncompressed.
 */
export const INFLATE_BODIES = false;

/** Why a body with a Content-Encoding other than identity was refused (body-parser's `encoding.unsupported`). */
export const COMPRESSED_BODY_MESSAGE = 'request body must not be compressed: send it without Content-Encoding';
