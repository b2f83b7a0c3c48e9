import type { ServerResponse } from 'node:http';
import { startStallingServer, useFixture, useTestReceiver, type ReceivedRequest } from '@hookrelay/testing';
import { useApiHarness } from './api-harness';
import { MAX_RECEIVER_WAITS_IN_FLIGHT } from './subscriber-limits';
import { VERIFICATION_MAX_WAIT_MS } from './verification';

/** The test's budget for a whole verification: the production 10 s would outlast the test. */
const BUDGET_MS = 300;

describe("an endpoint verification's one deadline", () => {
  const stalling = useFixture(startStallingServer, (s) => s.close(), 'each');
  const h = useApiHarness({ worker: false, verificationTimeoutMs: BUDGET_MS }, 'each');
  const receiver = useTestReceiver(undefined, 'each');
  const tokenHost = useTestReceiver(undefined, 'each');
  let base: string;

  beforeEach(async () => {
    base = `/v1/subscribers/${(await h.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body.id}/endpoints`;
  });

  it(`is ${VERIFICATION_MAX_WAIT_MS / 1000} s in production, for all of it`, () => {
    expect(VERIFICATION_MAX_WAIT_MS).toBe(10_000);
  });

  it.each(['post', 'get', 'challenge'] as const)(
    "answers 422 at the deadline while a verify: '%s' still waits for its TLS handshake, which no abort signal reaches",
    async (verify) => {
      const started = Date.now();
      const res = await h.call('POST', base, { body: { url: `https://127.0.0.1:${stalling.port}/hook`, verify } });
      expect(res.status).toBe(422);
      expect(res.body.error.message).toMatch(/no answer \(timeout/);
      // Before: undici's connect timeout, 10 s, whatever the budget.
      expect(Date.now() - started).toBeLessThan(3000);
      expect((await h.call('GET', base)).body.data).toEqual([]);
    },
  );

  it("answers 422 at the deadline while the OAuth token fetch stalls, keeps the subscriber's place until the fetch lets go, and never sends the test event late", async () => {
    const held: ServerResponse[] = [];
    tokenHost.answerWith((_req: ReceivedRequest, res: ServerResponse) => void held.push(res));
    const auth = { type: 'oauth2-client-credentials', tokenUrl: `${tokenHost.url}/token`, clientId: 'acme', clientSecret: 'acme-secret' };
    const create = () => h.call('POST', base, { body: { url: `${receiver.url}/hook`, verify: 'post', auth } });

    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: MAX_RECEIVER_WAITS_IN_FLIGHT }, create));
    // Before: the token fetch's own 10 s, then the request's whole budget.
    expect(Date.now() - started).toBeLessThan(3000);
    for (const a of answers) {
      expect(a.status).toBe(422);
      expect(a.body.error.message).toMatch(/no answer \(timeout/);
    }
    await tokenHost.waitForRequests(MAX_RECEIVER_WAITS_IN_FLIGHT);
    // Answered, but each token request still holds a socket: the places stay taken.
    const busy = await create();
    expect(busy.status).toBe(429);
    expect(busy.body.error.code).toBe('verifications_in_flight');

    // The token endpoint answers at last: the verifications end without sending anything, and give their places back.
    for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"late-token"}');
    receiver.answerWith({ status: 200 });
    let freed = await h.call('POST', base, { body: { url: `${receiver.url}/get`, verify: 'get' } });
    while (freed.status === 429) freed = await h.call('POST', base, { body: { url: `${receiver.url}/get`, verify: 'get' } });
    expect(freed.status).toBe(201);
    expect(receiver.requests.map((r) => [r.method, r.url])).toEqual([['GET', '/get']]);
  });
});
