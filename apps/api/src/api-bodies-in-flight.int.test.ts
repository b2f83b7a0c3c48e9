import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { waitUntil } from '@hookrelay/testing';
import { useApiHarness } from './api-harness';
import { useSubscriber } from './sources/source-test-kit';

// A review found that a caller with a subscriber's key could declare a 1 MB JSON body, send part of
// it and stop, on as many connections as it liked: each held the bytes of the API process every
// subscriber uses until the request timeout (30 s). The bytes a subscriber's own /v1 calls may have
// on their way in are now bounded per process (HOOKRELAY_API_BODY_BYTES_IN_FLIGHT), as its sources'
// were; here the bound is 150,000 bytes.

const BOUND = 150_000;
const DECLARED = 100_000;

/** A publish whose JSON body is exactly `bytes` long. */
function eventBody(bytes: number): string {
  const head = '{"type":"custom.bodies","payload":{"fill":"';
  const tail = '"}}';
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

/** The status and error code of the answer to `req`. */
function answerTo(req: ClientRequest): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const code = text ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : undefined;
        resolve({ status: res.statusCode ?? 0, code });
      });
    });
  });
}

/** Sends the headers of a request declaring DECLARED bytes of JSON and 10 KB of its body, and holds the rest back. */
function sendUnfinished(url: string, key: string, method = 'POST'): ClientRequest {
  const req = request(url, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(DECLARED) },
  });
  req.on('error', () => undefined);
  req.write(eventBody(DECLARED).slice(0, 10_000));
  return req;
}

describe("the body bytes a subscriber's own /v1 calls may have on their way in", () => {
  const h = useApiHarness({ worker: false, apiBodyBytesInFlight: BOUND });
  const attacker = useSubscriber(h, 'each');
  const victim = useSubscriber(h, 'each');
  const held = (sid: string) => h.deps.apiBodiesInFlight.held(sid);

  it('refuses a body over the bound before reading it, keeps other subscribers and the admin publishing, and frees it when the connection goes', async () => {
    expect(h.deps.apiBodiesInFlight.limit).toBe(BOUND);
    const stalled = sendUnfinished(`${h.baseUrl}/v1/subscribers/${attacker.sid}/events`, attacker.key);
    await waitUntil(() => held(attacker.sid) === DECLARED, 'the stalled body to be reserved');
    const body = eventBody(DECLARED);
    try {
      // A second declared body would take the subscriber over its bound: refused while its sender
      // still holds back most of it (it never sends the rest).
      const second = sendUnfinished(`${h.baseUrl}/v1/subscribers/${attacker.sid}/events`, attacker.key);
      try {
        expect(await answerTo(second)).toEqual({ status: 429, code: 'bodies_in_flight' });
      } finally {
        second.destroy();
      }
      expect(held(attacker.sid)).toBe(DECLARED);

      // Another subscriber's publish of the same size goes through, and so does the admin's for the
      // attacker's own subscriber: the platform's keys are not counted.
      const byVictim = await h.call('POST', `/v1/subscribers/${victim.sid}/events`, { key: victim.key, body });
      expect(byVictim.status).toBe(202);
      const byAdmin = await h.call('POST', `/v1/subscribers/${attacker.sid}/events`, { body });
      expect(byAdmin.status).toBe(202);
      expect(held(victim.sid)).toBe(0);
    } finally {
      // The stalled sender leaves: what it held is free again, and the subscriber publishes.
      stalled.destroy();
    }
    await waitUntil(() => held(attacker.sid) === 0, 'the stalled body to be let go');
    expect((await h.call('POST', `/v1/subscribers/${attacker.sid}/events`, { key: attacker.key, body })).status).toBe(202);
    expect(held(attacker.sid)).toBe(0);
  });

  it("counts a read-only portal session's GET bodies against its subscriber", async () => {
    const session = await h.call('POST', `/v1/subscribers/${attacker.sid}/portal-sessions`, { body: { readOnly: true } });
    expect(session.status).toBe(201);
    const token = (session.body as { token: string }).token;
    const stalled = sendUnfinished(`${h.baseUrl}/v1/whoami`, token, 'GET');
    try {
      await waitUntil(() => held(attacker.sid) === DECLARED, "the session's stalled body to be reserved");
      const second = sendUnfinished(`${h.baseUrl}/v1/whoami`, token, 'GET');
      try {
        expect(await answerTo(second)).toEqual({ status: 429, code: 'bodies_in_flight' });
      } finally {
        second.destroy();
      }
    } finally {
      stalled.destroy();
    }
    await waitUntil(() => held(attacker.sid) === 0, "the session's stalled body to be let go");
  });

  it('is 16 MiB by default', async () => {
    const { DEFAULT_API_BODY_BYTES_IN_FLIGHT } = await import('./subscriber-limits');
    expect(DEFAULT_API_BODY_BYTES_IN_FLIGHT).toBe(16 * 1024 * 1024);
  });
});
