import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { gzipSync } from 'node:zlib';
import { useApiHarness } from './api-harness';
import { useSubscriber } from './sources/source-test-kit';

// An audit found /v1 read every JSON body before checking the key: a client with no key that sent
// most of a declared 1 MB body and stopped held ~1 MB of the API's heap until it left (200 such
// connections: 212 MB). The key is now checked first; the body is read only for a caller who has one.

/** What the unfinished requests declare: a JSON body just under the 1 MB limit, which express.json would wait for. */
const DECLARED_BYTES = 1_000_000;
/** What they send of it before holding the rest back. */
const SENT_BYTES = 64 * 1024;
/** A bound on the wait for the answer, which is awaited as an event; before the fix it never came. */
const ANSWER_WITHIN_MS = 5_000;

interface Answer {
  status: number;
  body: { error?: { code?: string } };
  /** Whether the client had sent its whole body when the answer ended (it never does here). */
  bodyFinished: boolean;
}

/** The whole response to `req`, or a rejection when none arrived within ANSWER_WITHIN_MS. */
function answerTo(req: ClientRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms while the body was unfinished`)),
      ANSWER_WITHIN_MS,
    );
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.once('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {}, bodyFinished: req.writableEnded });
      });
    });
  });
}

/**
 * POSTs the headers and the first SENT_BYTES of a JSON body declared as DECLARED_BYTES, holds the
 * rest back, and resolves with the answer; the request is then dropped.
 */
async function postUnfinished(baseUrl: string, path: string, headers: Record<string, string>): Promise<Answer> {
  const req = request(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(DECLARED_BYTES), ...headers },
  });
  const answered = answerTo(req);
  req.write(`{"type":"custom.slow","payload":{"fill":"${'x'.repeat(SENT_BYTES - 50)}`);
  try {
    return await answered;
  } finally {
    req.destroy();
  }
}

describe('a /v1 request body is read only after the key is checked', () => {
  const h = useApiHarness({ worker: false });
  const subscriber = useSubscriber(h, 'all');

  describe('an unfinished 1 MB body', () => {
    it.each([
      ['no key', {}],
      ['a wrong key', { authorization: 'Bearer hr_not_a_key_0123456789' }],
      ['an unknown portal session token', { authorization: 'Bearer hr_ps_not_a_session_0123456789' }],
    ])('is answered 401 with %s while the client still holds most of it', async (_what, headers) => {
      const answer = await postUnfinished(h.baseUrl, `/v1/subscribers/${subscriber.sid}/events`, headers);
      expect(answer).toEqual({ status: 401, body: { error: expect.objectContaining({ code: 'unauthorized' }) }, bodyFinished: false });
    });
  });

  describe('a body the API would refuse is a 401 without a key, and its own error with one', () => {
    const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
    it.each([
      ['over 1 MB', { 'content-type': 'application/json' }, `{"fill":"${'x'.repeat(1024 * 1024)}"}`, 413, 'payload_too_large'],
      ['not valid JSON', { 'content-type': 'application/json' }, '{"type": "custom.x", "payload": {', 400, 'validation_failed'],
      ['not declared as JSON', { 'content-type': 'application/x-www-form-urlencoded' }, 'type=custom.x', 415, 'unsupported_media_type'],
      ['nested 200 levels', { 'content-type': 'application/json' }, deep, 400, 'validation_failed'],
    ])('%s', async (_what, headers, body, status, code) => {
      const path = `/v1/subscribers/${subscriber.sid}/events`;
      const anonymous = await h.call('POST', path, { key: null, headers, body });
      expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'unauthorized']);
      const keyed = await h.call('POST', path, { headers, body });
      expect([keyed.status, keyed.body.error.code]).toEqual([status, code]);
    });

    it('compressed', async () => {
      const send = (headers: Record<string, string>) =>
        fetch(`${h.baseUrl}/v1/subscribers/${subscriber.sid}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...headers },
          body: new Uint8Array(gzipSync('{"type":"custom.x","payload":{}}')),
        });
      const anonymous = await send({});
      expect([anonymous.status, ((await anonymous.json()) as { error: { code: string } }).error.code]).toEqual([401, 'unauthorized']);
      const keyed = await send({ authorization: `Bearer ${h.adminKey}` });
      expect([keyed.status, ((await keyed.json()) as { error: { code: string } }).error.code]).toEqual([415, 'unsupported_encoding']);
    });
  });
});
