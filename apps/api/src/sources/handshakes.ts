import type { IncomingHttpHeaders } from 'node:http';
import type { SourceRequestOutcome } from '@hookrelay/store';
import type { SourceVerification } from './source-input';
import { headerOf, hmacOf, sameSecret, type VerifyResult } from './verify-kit';
import { checkableOnGet } from './verify-request';
import { startsAsObject } from './vendor-verifiers';

/** What the ingest route answers a request, and records in the source's history. */
export interface IngestAnswer {
  status: number;
  outcome: SourceRequestOutcome;
  reason?: string;
  eventId?: string;
  /** Every event a request published, when it published more than one (SendGrid batches). */
  eventIds?: string[];
  /** JSON to send, or text for a challenge echo. */
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

/** A handshake's answer, and whether it proved the sender holds the source's secret (so it becomes verified). */
export interface HandshakeVerdict {
  answer: IngestAnswer;
  verified: boolean;
}

export const MAX_CHALLENGE_LENGTH = 1024;
export const UNAUTHORIZED = { error: { code: 'unauthorized', message: 'unauthorized' } };
const FORBIDDEN = { error: { code: 'forbidden', message: 'forbidden' } };

type Query = Record<string, unknown>;

/** A query parameter sent once, as text; undefined when absent or repeated. */
function single(query: Query, name: string): string | undefined {
  const value = query[name];
  return typeof value === 'string' ? value : undefined;
}

const ignored = (reason: string, body: { text: string } | { json: unknown }): HandshakeVerdict => ({
  answer: { status: 200, outcome: 'ignored', reason, ...body },
  verified: false,
});
const refused = (status: number, reason: string, json: unknown = UNAUTHORIZED): HandshakeVerdict => ({
  answer: { status, outcome: 'rejected', reason, json },
  verified: false,
});

/**
 * Meta's subscription check: `GET ?hub.mode=subscribe&hub.verify_token=<t>&hub.challenge=<c>`,
 * answered `200 <c>` only when `<t>` is the source's verify token, else 403 (Meta's own sample).
 * The token is a secret the two sides share, so a match verifies the source.
 */
function facebookSubscription(v: Extract<SourceVerification, { type: 'facebook' }>, query: Query): HandshakeVerdict {
  const token = single(query, 'hub.verify_token');
  if (token === undefined) return refused(403, 'bad_verify_token: hub.verify_token missing', FORBIDDEN);
  if (!sameSecret(token, v.verifyToken)) return refused(403, 'bad_verify_token: hub.verify_token does not match', FORBIDDEN);
  if (single(query, 'hub.mode') !== 'subscribe') return refused(403, 'bad_mode: hub.mode is not subscribe', FORBIDDEN);
  const challenge = single(query, 'hub.challenge');
  if (!challenge || challenge.length > MAX_CHALLENGE_LENGTH)
    return refused(400, `missing_challenge: hub.challenge missing or longer than ${MAX_CHALLENGE_LENGTH} characters`, {
      error: { code: 'invalid_request', message: 'hub.challenge missing' },
    });
  return { answer: { status: 200, outcome: 'ignored', reason: 'hub.challenge answered', text: challenge }, verified: true };
}

/**
 * Twitter's CRC: `GET ?crc_token=<t>` answered `{"response_token":"sha256=<base64 HMAC-SHA256(consumer
 * secret, t)>"}`. Anyone holding the URL can ask, so it proves nothing about the caller and does not
 * verify the source; tokens that start like a JSON object are refused so that no answer is ever a
 * valid signature for a post (vendor-verifiers.ts verifyTwitter).
 */
function twitterCrc(v: Extract<SourceVerification, { type: 'twitter' }>, query: Query): HandshakeVerdict {
  const token = single(query, 'crc_token');
  if (!token)
    return refused(400, 'missing_challenge: crc_token missing', { error: { code: 'invalid_request', message: 'crc_token missing' } });
  if (token.length > MAX_CHALLENGE_LENGTH || startsAsObject(token))
    return refused(400, 'malformed_challenge: crc_token is too long or starts like a JSON object', {
      error: { code: 'invalid_request', message: 'crc_token refused' },
    });
  const responseToken = `sha256=${hmacOf('sha256', v.consumerSecret, token).toString('base64')}`;
  return ignored('crc_token answered (any caller can ask: not counted as verification)', { json: { response_token: responseToken } });
}

/**
 * Any other GET: an echo of `?challenge=` or `?hub.challenge=` (Web1on1, WebSub). Only header, basic
 * and none sources can judge a GET, which has no body to sign; for the signature types the echo
 * proves only that the caller holds the URL, so it verifies nothing.
 */
function challengeEcho(v: SourceVerification, query: Query, verifyGet: () => VerifyResult): HandshakeVerdict {
  const challenge = single(query, 'challenge') ?? single(query, 'hub.challenge');
  if (!challenge || challenge.length > MAX_CHALLENGE_LENGTH) {
    return {
      answer: {
        status: 405,
        outcome: 'rejected',
        reason: 'GET without a challenge',
        json: { error: { code: 'method_not_allowed', message: 'send POST' } },
        headers: { allow: 'GET, POST' },
      },
      verified: false,
    };
  }
  if (!checkableOnGet(v)) return ignored('challenge answered (unsigned GET; not counted as verification)', { text: challenge });
  const verdict = verifyGet();
  if (!verdict.ok)
    return {
      answer: {
        status: 401,
        outcome: 'rejected',
        reason: verdict.reason,
        json: UNAUTHORIZED,
        headers: v.type === 'basic' ? { 'www-authenticate': 'Basic realm="hookrelay"' } : undefined,
      },
      verified: false,
    };
  return { answer: { status: 200, outcome: 'ignored', reason: 'challenge answered', text: challenge }, verified: true };
}

/** What a GET to an ingest URL is answered, by the source's type. */
export function answerGet(v: SourceVerification, query: Query, verifyGet: () => VerifyResult): HandshakeVerdict {
  if (v.type === 'facebook') return facebookSubscription(v, query);
  if (v.type === 'twitter') return twitterCrc(v, query);
  return challengeEcho(v, query, verifyGet);
}

/** GitHub's `ping` (sent when a webhook is created): signed like any delivery, answered 200 and never published. */
export function isGithubPing(v: SourceVerification, headers: IncomingHttpHeaders): boolean {
  return v.type === 'github' && headerOf(headers, 'x-github-event') === 'ping';
}
