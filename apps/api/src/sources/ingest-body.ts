import express, { type Request, type RequestHandler } from 'express';
import { COMPRESSED_BODY_MESSAGE, INFLATE_BODIES } from '../compressed-bodies';
import type { IngestAnswer } from './handshakes';
import type { Source } from './source-input';
import { twilioBodyHashIn } from './vendor-verifiers';

/** The most a source's body may be (body-parser's `1mb`, 1 MiB), as sent: signatures are over the exact bytes. */
export const INGEST_BODY_LIMIT = 1024 * 1024;

/**
 * The most a form post to a `twilio` source may be. Twilio's form webhooks are mostly a few KB, but
 * a Conversations message's `Body` may be 32 KB and its `Attributes` 4 KB, and each non-ASCII byte
 * is three characters once URL-encoded (~110 KB). Their signature covers the sorted fields, so the
 * whole form is parsed and sorted before a signature can be compared: a 1 MB form of 10,000 fields
 * with a bad signature cost ~18 ms of the shared process, and anyone holding the URL could send 50
 * a second (the default `rateLimit`), most of a core; the fields are also held to
 * TWILIO_MAX_FORM_FIELDS. Twilio's JSON posts carry `bodySHA256` in the URL, are hashed rather than
 * parsed to be checked, and keep INGEST_BODY_LIMIT.
 */
export const TWILIO_FORM_BODY_LIMIT = 256 * 1024;

/** How one request's body is read, and what is said when it is larger. */
export interface BodyReading {
  /** The most the body may be, in bytes. */
  limit: number;
  /** The 413's reason (recorded) and message (to the sender). */
  tooLarge: string;
  read: RequestHandler;
}

function reading(limit: number, tooLarge: string): BodyReading {
  // Kept raw whatever its Content-Type; a larger Content-Length is refused before a byte is read.
  return { limit, tooLarge, read: express.raw({ type: () => true, limit, inflate: INFLATE_BODIES }) };
}

/**
 * Picks each request's body reading: a form post to a `twilio` source (no `bodySHA256` in its URL,
 * so the verifier reads the body as the form fields Twilio signs) is held to TWILIO_FORM_BODY_LIMIT,
 * every other body to INGEST_BODY_LIMIT. Decided from the source and the URL, before the body is read.
 */
export function bodyReadings(): (source: Source, req: Request) => BodyReading {
  const any = reading(INGEST_BODY_LIMIT, 'body larger than 1 MB');
  const twilioForm = reading(TWILIO_FORM_BODY_LIMIT, 'body larger than 256 KiB, the most a Twilio form post may be');
  return (source, req) => (source.verification.type === 'twilio' && twilioBodyHashIn(req.originalUrl) === null ? twilioForm : any);
}

/**
 * The body bytes a request may bring, which it reserves (HOOKRELAY_SOURCE_BODY_BYTES_IN_FLIGHT)
 * before its body is read: its Content-Length, or the limit for a chunked body, whose length is
 * known only at its end. None when it has no body, or declares more than the limit: body-parser
 * refuses that one unread and drops its bytes as they come, so it holds nothing.
 */
export function bodyBytesOnTheWay(req: Request, limit: number): number {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const bytes = Number(declared);
    return bytes > limit ? 0 : bytes;
  }
  return req.headers['transfer-encoding'] === undefined ? 0 : limit;
}

/** The answer to a body body-parser could not read (too large, compressed, cut off), recorded like every refusal. */
export function unreadableBody(err: unknown, body: BodyReading): IngestAnswer {
  const type = (err as { type?: string }).type;
  const { status, code, reason } =
    type === 'entity.too.large'
      ? { status: 413, code: 'payload_too_large', reason: body.tooLarge }
      : type === 'encoding.unsupported'
        ? { status: 415, code: 'unsupported_encoding', reason: COMPRESSED_BODY_MESSAGE }
        : {
            status: Number((err as { status?: number }).status) || 400,
            code: 'invalid_body',
            reason: `body unreadable: ${(err as Error).message}`.slice(0, 200),
          };
  return { status, outcome: 'rejected', reason, json: { error: { code, message: reason } } };
}
