import { Agent } from 'undici';
import { RESPONSE_BODY_KEEP_BYTES } from '@hookrelay/contracts';
import { freePort, startStallingServer, TestReceiver } from '@hookrelay/testing';
import { sendRequest, type OutboundRequest } from './send';

describe('sendRequest', () => {
  let receiver: TestReceiver;
  let agent: Agent;

  beforeEach(async () => {
    receiver = await TestReceiver.start();
    agent = new Agent({ connections: 1 });
  });

  afterEach(async () => {
    await agent.destroy();
    await receiver.close();
  });

  const post = (overrides: Partial<OutboundRequest> = {}): Promise<Awaited<ReturnType<typeof sendRequest>>> =>
    sendRequest(agent, {
      url: `${receiver.url}/hooks/in?x=1`,
      headers: { 'content-type': 'application/json', 'x-test': 'yes' },
      body: '{"a":1}',
      timeoutMs: 2000,
      ...overrides,
    });

  it('POSTs the body and headers to the path and query, and answers status, headers and body', async () => {
    receiver.answerWith({ status: 201, body: 'thanks', headers: { 'x-reply': 'r', 'retry-after': '3' } });
    const result = await post();
    expect(result).toMatchObject({ kind: 'response', statusCode: 201, bodyPreview: 'thanks' });
    expect(result.kind === 'response' && result.headers).toMatchObject({ 'x-reply': 'r', 'retry-after': '3' });
    const [req] = receiver.requests;
    expect(req).toMatchObject({ method: 'POST', url: '/hooks/in?x=1' });
    expect(req?.headers['x-test']).toBe('yes');
    expect(req?.body.toString()).toBe('{"a":1}');
  });

  it('keeps the first 4 KB of an endless body and answers without waiting for its end', async () => {
    receiver.answerWith((_req, res) => {
      res.writeHead(200);
      // Writes until the client goes away: only dropping the connection ends this.
      const chunk = 'y'.repeat(16 * 1024);
      const timer = setInterval(() => res.write(chunk), 5);
      res.on('close', () => clearInterval(timer));
    });
    const result = await post({ timeoutMs: 5000 });
    expect(result.kind).toBe('response');
    expect(result.kind === 'response' && result.bodyPreview).toBe('y'.repeat(RESPONSE_BODY_KEEP_BYTES));
    expect(result.durationMs).toBeLessThan(2000);
  });

  it('decides a timeout while the request waits for a socket, and answers once undici has let go of it', async () => {
    // The one connection is held by a request the receiver answers after 1.5 s.
    receiver.enqueue({ status: 200, delayMs: 1500 });
    const holding = post({ timeoutMs: 5000 });
    await receiver.waitForRequests(1);
    const started = Date.now();
    const queued = await post({ timeoutMs: 100 });
    // Decided at its deadline...
    expect(queued).toMatchObject({ kind: 'error', errorKind: 'timeout' });
    expect(queued.durationMs).toBeLessThan(1000);
    // ...answered once the socket freed and undici dropped it: the caller holds its slots until
    // then (before, it answered at the deadline while undici still held the request and its body).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect((await holding).kind).toBe('response');
    // Dropped once it got the socket: the receiver never saw it. A marker sent now goes out after
    // anything still queued on that connection, so once it has arrived nothing else can.
    expect(await post({ timeoutMs: 5000 })).toMatchObject({ kind: 'response' });
    expect(receiver.requests).toHaveLength(2);
  });

  it("holds a timed-out request until its stalled connection attempt fails, so stalled receivers cannot pile requests up in undici's queue", async () => {
    // Never answers the TLS handshake: undici waits for its connect timeout.
    const stalling = await startStallingServer();
    const { port } = stalling;
    const stalled = new Agent({ connections: 1, connect: { timeout: 400 } });
    try {
      const started = Date.now();
      const send = () =>
        sendRequest(stalled, { url: `https://127.0.0.1:${port}/`, headers: {}, body: 'x'.repeat(1024), timeoutMs: 50 }).then((r) => ({
          result: r,
          answeredAfterMs: Date.now() - started,
        }));
      // The second waits in the pool for the one connection, which the first is still opening.
      const [first, second] = await Promise.all([send(), send()]);
      for (const { result } of [first, second]) {
        expect(result).toMatchObject({ kind: 'error', errorKind: 'timeout' });
        expect(result.durationMs).toBeLessThan(400);
      }
      expect(first.answeredAfterMs).toBeGreaterThanOrEqual(350);
      expect(second.answeredAfterMs).toBeGreaterThanOrEqual(350);
      const origin = `https://127.0.0.1:${port}`;
      const stats = (stalled.stats as Record<string, { pending?: number; queued?: number; running?: number }>)[origin];
      expect((stats?.pending ?? 0) + (stats?.queued ?? 0) + (stats?.running ?? 0)).toBe(0);
    } finally {
      await stalled.destroy();
      await stalling.close();
    }
  });

  it('times out a receiver that never answers', async () => {
    receiver.answerWith(() => undefined);
    const result = await post({ timeoutMs: 150 });
    expect(result).toMatchObject({ kind: 'error', errorKind: 'timeout' });
    expect(result.durationMs).toBeGreaterThanOrEqual(140);
  });

  it('names a refused connection', async () => {
    const port = await freePort();
    const result = await post({ url: `http://127.0.0.1:${port}/` });
    expect(result).toMatchObject({ kind: 'error', errorKind: 'connection_refused' });
  });

  it('answers an invalid header value as an error instead of throwing', async () => {
    const result = await post({ headers: { 'x-bad': 'a\r\nb' } });
    expect(result.kind).toBe('error');
    expect(receiver.requests).toHaveLength(0);
  });
});
