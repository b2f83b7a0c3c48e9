import { createHmac } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { buildEndpoint, TestReceiver, useTestReceiver, type ReceivedRequest } from '@hookrelay/testing';
import { useApiHarness } from './api-harness';
import { VERIFICATION_MAX_WAIT_MS, verifyEndpoint } from './verification';

/** Answers 200 with the `challenge` query parameter, as a Web1on1-style receiver does. */
function echoChallenge(req: ReceivedRequest, res: ServerResponse): void {
  const challenge = new URL(req.url, 'http://receiver').searchParams.get('challenge') ?? '';
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(challenge);
}

/** A port nothing listens on: bound, read, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('endpoint verification', () => {
  const receiver = useTestReceiver(undefined, 'each');
  const h = useApiHarness({ worker: false }, 'each');
  let base: string;

  beforeEach(async () => {
    // No worker: every request the receiver sees comes from verification.
    const sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body.id;
    base = `/v1/subscribers/${sid}/endpoints`;
  });

  async function stored(): Promise<Array<{ id: string; url: string }>> {
    return (await h.call('GET', base)).body.data;
  }

  describe("with verify: 'post'", () => {
    it('creates the endpoint when the receiver answers 2xx to a signed test event', async () => {
      receiver.answerWith({ status: 204 });
      const res = await h.call('POST', base, { body: { url: `${receiver.url}/hook`, verify: 'post' } });
      expect(res.status).toBe(201);
      expect(receiver.requests).toHaveLength(1);
      const [req] = receiver.requests;
      expect(req?.method).toBe('POST');
      expect(req?.url).toBe('/hook');
      expect(req?.headers['x-hookrelay-event-type']).toBe('hookrelay.verification');
      expect(JSON.parse(req!.body.toString())).toEqual({ type: 'hookrelay.verification', endpointId: res.body.id });
      expect(req?.headers['x-hub-signature']).toBe(createHmac('sha256', res.body.secret).update(req!.body).digest('hex'));
      expect((await stored()).map((e) => e.id)).toEqual([res.body.id]);
      // The mode is kept: a later URL change is verified the same way.
      expect(res.body.verify).toBe('post');
    });

    it('answers 422 saying the endpoint answered HTTP 500, and stores nothing', async () => {
      receiver.answerWith({ status: 500, body: 'boom' });
      const res = await h.call('POST', base, { body: { url: `${receiver.url}/hook`, verify: 'post' } });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('verification_failed');
      expect(res.body.error.message).toMatch(/HTTP 500/);
      expect(receiver.requests).toHaveLength(1);
      expect(await stored()).toEqual([]);
    });

    it('answers 422 saying nothing answered when no one listens, and stores nothing', async () => {
      const res = await h.call('POST', base, { body: { url: `http://127.0.0.1:${await closedPort()}/hook`, verify: 'post' } });
      expect(res.status).toBe(422);
      expect(res.body.error.message).toMatch(/no answer \(connection_refused/);
      expect(await stored()).toEqual([]);
    });
  });

  it.each(['get', 'challenge'])(
    "answers 422 naming the timeout when the receiver does not answer a verify: '%s' GET in time",
    async (verify) => {
      receiver.answerWith(() => undefined); // never answers; receiver.close() drops the connection
      const res = await h.call('POST', base, { body: { url: receiver.url, verify, timeoutMs: 200 } });
      expect(res.status).toBe(422);
      expect(res.body.error.message).toMatch(/no answer \(timeout\)/);
      expect(await stored()).toEqual([]);
    },
  );

  describe('how long it waits', () => {
    it(`waits at most ${VERIFICATION_MAX_WAIT_MS / 1000} s, as long as Webex Connect gives its calls, whatever the endpoint's timeoutMs`, () => {
      expect(VERIFICATION_MAX_WAIT_MS).toBe(10_000);
    });

    it.each(['post', 'get', 'challenge'] as const)(
      "gives up on a receiver that does not answer a verify: '%s' at its bound, not at the endpoint's timeoutMs",
      async (verify) => {
        receiver.answerWith(() => undefined); // never answers; receiver.close() drops the connection
        // The bound is the test's, 300 ms: the endpoint's 60 s would outlast the test.
        const endpoint = buildEndpoint({ url: `${receiver.url}/hook`, timeoutMs: 60_000 });
        const started = Date.now();
        const result = await verifyEndpoint(verify, endpoint, h.deps, started, 300);
        expect(result).toEqual({ ok: false, answered: expect.stringMatching(/^no answer \(timeout/) });
        expect(Date.now() - started).toBeLessThan(3000);
        expect(receiver.requests).toHaveLength(1);
      },
    );
  });

  describe("with verify: 'get'", () => {
    it('creates the endpoint when a GET gets 200', async () => {
      const res = await h.call('POST', base, { body: { url: `${receiver.url}/hook?token=abc`, verify: 'get' } });
      expect(res.status).toBe(201);
      expect(receiver.requests.map((r) => [r.method, r.url])).toEqual([['GET', '/hook?token=abc']]);
      expect(await stored()).toHaveLength(1);
    });

    it.each([204, 302, 404])('answers 422 naming HTTP %i when the GET gets it instead of 200', async (status) => {
      receiver.answerWith({ status, headers: status === 302 ? { location: '/elsewhere' } : undefined });
      const res = await h.call('POST', base, { body: { url: receiver.url, verify: 'get' } });
      expect(res.status).toBe(422);
      expect(res.body.error.message).toContain(`HTTP ${status}`);
      expect(receiver.requests.map((r) => r.method)).toEqual(['GET']);
      expect(await stored()).toEqual([]);
    });
  });

  describe("with verify: 'challenge'", () => {
    it('creates the endpoint when the receiver echoes the challenge', async () => {
      receiver.answerWith(echoChallenge);
      const res = await h.call('POST', base, { body: { url: `${receiver.url}/hook`, verify: 'challenge' } });
      expect(res.status).toBe(201);
      const [req] = receiver.requests;
      expect(req?.method).toBe('GET');
      const url = new URL(req!.url, 'http://receiver');
      expect(url.pathname).toBe('/hook');
      expect(url.searchParams.get('type')).toBe('subscribe');
      expect(url.searchParams.get('challenge')).toMatch(/^[0-9a-f]{32}$/);
      expect(await stored()).toHaveLength(1);
    });

    it('sends the endpoint credentials with the challenge, from auth or from the URL', async () => {
      receiver.answerWith(echoChallenge);
      const port = new URL(receiver.url).port;
      const viaAuth = await h.call('POST', base, {
        body: { url: receiver.url, verify: 'challenge', auth: { type: 'bearer', token: 'tok-verify' } },
      });
      const viaUrl = await h.call('POST', base, { body: { url: `http://web1on1:s3cret@127.0.0.1:${port}/hook`, verify: 'challenge' } });
      expect([viaAuth.status, viaUrl.status]).toEqual([201, 201]);
      expect(receiver.requests.map((r) => r.headers.authorization)).toEqual([
        'Bearer tok-verify',
        `Basic ${Buffer.from('web1on1:s3cret').toString('base64')}`,
      ]);
    });

    it('sends a fresh challenge each time', async () => {
      receiver.answerWith(echoChallenge);
      await h.call('POST', base, { body: { url: receiver.url, verify: 'challenge' } });
      await h.call('POST', base, { body: { url: receiver.url, verify: 'challenge' } });
      const challenges = receiver.requests.map((r) => new URL(r.url, 'http://receiver').searchParams.get('challenge'));
      expect(new Set(challenges).size).toBe(2);
    });

    it.each([
      ['a 200 with some other body', { status: 200, body: 'ok' }],
      ['a 200 with an empty body', { status: 200 }],
      ['a 500', { status: 500 }],
    ])('answers 422 when the receiver gives %s, and stores nothing', async (_label, reply) => {
      receiver.answerWith(reply);
      const res = await h.call('POST', base, { body: { url: receiver.url, verify: 'challenge' } });
      expect(res.status).toBe(422);
      expect(res.body.error.message).toContain(`HTTP ${reply.status}`);
      expect(res.body.error.message).toMatch(/challenge/);
      expect(await stored()).toEqual([]);
    });

    it('answers 422 when the receiver echoes the challenge with a non-200 status', async () => {
      receiver.answerWith((req, res) => {
        res.writeHead(201);
        res.end(new URL(req.url, 'http://receiver').searchParams.get('challenge') ?? '');
      });
      const res = await h.call('POST', base, { body: { url: receiver.url, verify: 'challenge' } });
      expect(res.status).toBe(422);
      expect(await stored()).toEqual([]);
    });
  });

  describe('when the receiver answers with a body that never ends', () => {
    /** Answers 200, writes `first`, then keeps trickling bytes until the connection is dropped. */
    function endlessBody(first: (req: ReceivedRequest) => string) {
      return (req: ReceivedRequest, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(first(req));
        const timer = setInterval(() => res.write('x'.repeat(4096)), 20);
        res.on('close', () => clearInterval(timer));
      };
    }

    it("passes verify: 'get' on the 200 without waiting for the body", async () => {
      receiver.answerWith(endlessBody(() => 'streaming'));
      const started = Date.now();
      const res = await h.call('POST', base, { body: { url: receiver.url, verify: 'get', timeoutMs: 3000 } });
      expect(res.status).toBe(201);
      expect(Date.now() - started).toBeLessThan(1500);
    });

    it("fails verify: 'challenge' as soon as the body is longer than a challenge could be", async () => {
      receiver.answerWith(endlessBody((req) => new URL(req.url, 'http://receiver').searchParams.get('challenge') ?? ''));
      const started = Date.now();
      const res = await h.call('POST', base, { body: { url: receiver.url, verify: 'challenge', timeoutMs: 3000 } });
      expect(res.status).toBe(422);
      expect(res.body.error.message).toMatch(/HTTP 200 with a body that is not the challenge/);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await stored()).toEqual([]);
    });
  });

  describe('when PATCH changes the URL', () => {
    let other: TestReceiver;
    beforeEach(async () => {
      other = await TestReceiver.start();
    });
    afterEach(async () => {
      await other.close();
    });

    it('verifies the new URL and refuses the change with 422 when it fails, keeping the old URL', async () => {
      const created = (await h.call('POST', base, { body: { url: receiver.url, verify: 'post' } })).body;
      other.answerWith({ status: 503 });
      const res = await h.call('PATCH', `${base}/${created.id}`, {
        body: { url: `${other.url}/new`, verify: 'post', description: 'moved' },
      });
      expect(res.status).toBe(422);
      expect(res.body.error.message).toMatch(/HTTP 503/);
      expect(other.requests.map((r) => [r.method, r.url])).toEqual([['POST', '/new']]);
      expect((await h.call('GET', `${base}/${created.id}`)).body).toMatchObject({ url: created.url, description: '' });
    });

    it('verifies the new URL and saves it when it passes', async () => {
      const created = (await h.call('POST', base, { body: { url: receiver.url } })).body;
      other.answerWith(echoChallenge);
      const res = await h.call('PATCH', `${base}/${created.id}`, { body: { url: `${other.url}/new`, verify: 'challenge' } });
      expect(res.status).toBe(200);
      expect(other.requests).toHaveLength(1);
      expect((await h.call('GET', `${base}/${created.id}`)).body.url).toBe(`${other.url}/new`);
    });

    it('does not call the endpoint when the URL is unchanged', async () => {
      const created = (await h.call('POST', base, { body: { url: receiver.url, verify: 'post' } })).body;
      receiver.answerWith({ status: 500 });
      const res = await h.call('PATCH', `${base}/${created.id}`, { body: { url: created.url, verify: 'post', description: 'same place' } });
      expect(res.status).toBe(200);
      expect(receiver.requests).toHaveLength(1);
    });
  });
});
