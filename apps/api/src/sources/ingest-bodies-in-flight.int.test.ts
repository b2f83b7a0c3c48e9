import { connect, type Socket } from 'node:net';
import { useApiHarnessPerTest, type ApiHarness } from '../api-harness';
import { waitFor } from '../history-test-kit';
import { createSource, eventsOf, historyOf, ingest, newSubscriber } from './source-test-kit';

// A body is held in the API's memory until it is whole. A sender that declared 1 MB, sent all but
// a byte and stopped held it until the request timeout (30 s), as often as its source's rate limit
// allowed (50 a second): ~1.2 GB from one URL, every subscriber's process. Each subscriber's
// sources now share a bound of body bytes on their way in (HOOKRELAY_SOURCE_BODY_BYTES_IN_FLIGHT).

const VERIFICATION = { type: 'header', headers: { 'X-Symphony-Secret': 'room-7-shared-secret' } };
const WITH_SECRET = { 'x-symphony-secret': 'room-7-shared-secret' };
/** The same, and a JSON type, as raw header lines. */
const HEAD = ['Content-Type: application/json', 'X-Symphony-Secret: room-7-shared-secret'];
/** The bound the harness is given: three stalled bodies of DECLARED bytes fill it. */
const BOUND = 300_000;
const DECLARED = 100_000;

interface Sent {
  socket: Socket;
  /** Resolves once what was given is handed to the kernel: the server can then read it all. */
  written: Promise<void>;
  /** The server's answer, once it is whole (or what came before the server closed the connection). */
  answer: Promise<{ status: number; headers: string; body: string }>;
}

/**
 * A request to `path` on a connection of its own: `head` lines, then `body`, and nothing more until
 * the test destroys the socket (a declared Content-Length longer than `body` leaves it stalled).
 */
function send(h: ApiHarness, path: string, head: string[], body: string | Buffer = ''): Sent {
  const { hostname, port } = new URL(h.baseUrl);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  const written = new Promise<void>((resolve) => {
    socket.write(
      Buffer.concat([Buffer.from([`POST ${path} HTTP/1.1`, `Host: ${hostname}`, ...head, '', ''].join('\r\n')), Buffer.from(body)]),
      () => resolve(),
    );
  });
  const answer = new Promise<{ status: number; headers: string; body: string }>((resolve) => {
    let received = '';
    const parsed = () => {
      const end = received.indexOf('\r\n\r\n');
      const headers = end === -1 ? received : received.slice(0, end);
      return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0), headers, body: end === -1 ? '' : received.slice(end + 4) };
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const answered = parsed();
      const length = /\r\ncontent-length: (\d+)/i.exec(answered.headers)?.[1];
      if (length !== undefined && answered.body.length >= Number(length)) resolve(answered);
    });
    socket.once('close', () => resolve(parsed()));
  });
  return { socket, written, answer };
}

/** A body to a source that declares `declared` bytes and sends `sent` of them, then stalls. */
function stall(h: ApiHarness, path: string, declared: number, sent: number): Sent {
  return send(h, path, [...HEAD, `Content-Length: ${declared}`], 'x'.repeat(sent));
}

describe("request bodies on their way to a subscriber's sources, per API process", () => {
  const start = useApiHarnessPerTest();
  const open: Socket[] = [];
  afterEach(() => {
    for (const socket of open.splice(0)) socket.destroy();
  });
  const kept = (sent: Sent) => {
    open.push(sent.socket);
    return sent;
  };

  const held = (h: ApiHarness, sid: string) => h.deps.sourceBodiesInFlight.held(sid);

  it("refuses the subscriber's next request 429 before reading its body once stalled bodies fill the bound, not another subscriber's, until they close", async () => {
    const h = await start({ worker: false, sourceBodyBytesInFlight: BOUND });
    const { sid } = await newSubscriber(h, 'Attacked');
    // Three sources, one stalled body each (a source may hold half the bound).
    const stalled = await Promise.all([1, 2, 3].map(() => createSource(h, sid, { eventType: 'source.x', verification: VERIFICATION })));
    const sibling = await createSource(h, sid, { eventType: 'source.x', verification: VERIFICATION });
    const other = await newSubscriber(h, 'Bystander');
    const bystander = await createSource(h, other.sid, { eventType: 'source.x', verification: VERIFICATION });

    const stalls = stalled.map((source) => kept(stall(h, source.ingestUrl, DECLARED, DECLARED - 1)));
    await waitFor(
      async () => held(h, sid),
      (bytes) => bytes === BOUND,
      'the stalled bodies to be counted',
    );

    // Answered with nothing of its body sent: it was refused before the body was read.
    const refused = await kept(stall(h, sibling.ingestUrl, DECLARED, 0)).answer;
    expect(refused.status).toBe(429);
    expect(refused.headers).toMatch(/\r\nretry-after: 1\r\n/i);
    const message = `the subscriber holds ${BOUND} of ${BOUND} bytes of request bodies on their way to its sources in this API process, and this request needs ${DECLARED} more; retry after one ends`;
    expect(JSON.parse(refused.body)).toEqual({ error: { code: 'bodies_in_flight', message } });
    expect((await historyOf(h, sid, sibling.id))[0]).toMatchObject({
      status: 429,
      outcome: 'rejected',
      reason: `bodies in flight: ${message}`,
    });
    // Any body at all is over it, a whole small one too; another subscriber's sources are not.
    expect((await ingest(h, sibling.ingestUrl, { body: '{"n":1}', headers: WITH_SECRET })).status).toBe(429);
    expect((await ingest(h, bystander.ingestUrl, { body: '{"n":1}', headers: WITH_SECRET })).status).toBe(202);

    for (const s of stalls) s.socket.destroy();
    await waitFor(
      async () => held(h, sid),
      (bytes) => bytes === 0,
      'the closed connections to free their bytes',
    );
    expect((await ingest(h, sibling.ingestUrl, { body: '{"n":2}', headers: WITH_SECRET })).status).toBe(202);
  });

  it('frees what each request reserved exactly once, however it ends: answered, refused, cut off or closed before it was read', async () => {
    // Room for the chunked body's whole 1 MiB beside the stalled one.
    const h = await start({ worker: false, sourceBodyBytesInFlight: 4 * 1024 * 1024 });
    const { sid } = await newSubscriber(h);
    const source = await createSource(h, sid, { eventType: 'source.x', verification: VERIFICATION });
    // Held throughout: a place freed twice would free some of these bytes too.
    kept(stall(h, source.ingestUrl, DECLARED, 10));
    await waitFor(
      async () => held(h, sid),
      (bytes) => bytes === DECLARED,
      'the stalled body to be counted',
    );

    expect((await ingest(h, source.ingestUrl, { body: '{"n":1}', headers: WITH_SECRET })).status).toBe(202);
    expect((await ingest(h, source.ingestUrl, { body: '{"n":1}', headers: { 'x-symphony-secret': 'wrong' } })).status).toBe(401);
    const compressed = send(h, source.ingestUrl, ['Content-Encoding: gzip', 'Content-Length: 10', ...HEAD], 'x'.repeat(10));
    expect((await compressed.answer).status).toBe(415);
    // Chunked: its length is known at its end, so it reserves the 1 MB limit, and is refused past it.
    const chunked = send(h, source.ingestUrl, ['Transfer-Encoding: chunked', ...HEAD], `100001\r\n${'x'.repeat(0x100001)}\r\n0\r\n\r\n`);
    expect((await chunked.answer).status).toBe(413);
    // Closed mid-body, once read from; and closed at once, likely before the route reached the
    // body (the source and its rate limits are read from Redis first).
    const midBody = stall(h, source.ingestUrl, DECLARED, 1000);
    await waitFor(
      async () => held(h, sid),
      (bytes) => bytes === 2 * DECLARED,
      'the second body to be counted',
    );
    midBody.socket.destroy();
    const atOnce = [1, 2, 3, 4, 5].map(() => stall(h, source.ingestUrl, DECLARED, 1000));
    await Promise.all(atOnce.map(async (s) => s.written.then(() => s.socket.destroy())));
    // Recorded: the five answered above (202, 401, 415, 413, the one closed mid-body) and these.
    await waitFor(
      async () => (await historyOf(h, sid, source.id)).length,
      (n) => n === 5 + atOnce.length,
      'every request to be recorded',
    );
    await waitFor(
      async () => held(h, sid),
      (bytes) => bytes === DECLARED,
      'only the stalled body to be held',
    );
  });

  it("holds one source's URL to half its subscriber's bound, so its other sources still take bodies", async () => {
    const h = await start({ worker: false, sourceBodyBytesInFlight: BOUND });
    const { sid } = await newSubscriber(h);
    const leaked = await createSource(h, sid, { eventType: 'source.x', verification: VERIFICATION });
    const sibling = await createSource(h, sid, { eventType: 'source.x', verification: VERIFICATION });
    kept(stall(h, leaked.ingestUrl, DECLARED, 10));
    await waitFor(
      async () => held(h, sid),
      (bytes) => bytes === DECLARED,
      'the stalled body to be counted',
    );
    // A second stalled body to the same URL would bring it over half the bound (150,000 bytes).
    const refused = await kept(stall(h, leaked.ingestUrl, DECLARED, 0)).answer;
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).error.message).toBe(
      `the subscriber holds ${DECLARED} of ${BOUND / 2} bytes of request bodies on their way to this one of its sources in this API process, and this request needs ${DECLARED} more; retry after one ends`,
    );
    expect(held(h, sid)).toBe(DECLARED);
    expect((await ingest(h, sibling.ingestUrl, { body: '{"n":1}', headers: WITH_SECRET })).status).toBe(202);
  });

  it('frees what a request pipelined behind another reserved when the connection closes', async () => {
    const h = await start({ worker: false, sourceBodyBytesInFlight: BOUND });
    const { sid } = await newSubscriber(h);
    const source = await createSource(h, sid, { eventType: 'source.x', verification: VERIFICATION });
    const { hostname } = new URL(h.baseUrl);
    // One request whole, then a second on the same connection declaring a body it never sends,
    // then the connection closes: Node queues the second's response behind the first's, and a
    // queued response never emits 'close'.
    const second = [`POST ${source.ingestUrl} HTTP/1.1`, `Host: ${hostname}`, ...HEAD, `Content-Length: ${DECLARED}`, '', ''].join('\r\n');
    const pipelined = send(h, source.ingestUrl, [...HEAD, 'Content-Length: 7'], `{"n":1}${second}`);
    // Closed while the first is still being handled (its source read from Redis).
    await pipelined.written;
    pipelined.socket.destroy();
    await waitFor(
      async () => (await historyOf(h, sid, source.id)).length,
      (n) => n === 2,
      'the second request to be recorded',
    );
    await waitFor(
      async () => held(h, sid),
      (bytes) => bytes === 0,
      "the pipelined request's bytes to be freed",
    );
  });

  it('publishes nothing for a sender that closed before its body was read, and records why', async () => {
    const h = await start({ worker: false });
    const { sid } = await newSubscriber(h);
    // A text source whose check (a header) does not cover the body: an empty body would publish.
    const source = await createSource(h, sid, { eventType: 'source.x', verification: VERIFICATION, format: 'text' });
    const head = ['Content-Type: text/plain', 'X-Symphony-Secret: room-7-shared-secret', 'Content-Length: 50'];
    // Closed at once, most before the route reaches the body (the source and its rate limits are
    // read from Redis first), some while it is being read.
    const closed = Array.from({ length: 8 }, () => send(h, source.ingestUrl, head, 'x'.repeat(10)));
    await Promise.all(closed.map(async (s) => s.written.then(() => s.socket.destroy())));
    const history = await waitFor(
      async () => historyOf(h, sid, source.id),
      (records) => records.length === closed.length,
      'every closed request to be recorded',
    );
    expect(history.map((r) => r.outcome)).toEqual(Array(closed.length).fill('rejected'));
    expect(await eventsOf(h, sid)).toEqual([]);
    // A whole body still publishes.
    expect((await ingest(h, source.ingestUrl, { body: 'hello', headers: { ...WITH_SECRET, 'content-type': 'text/plain' } })).status).toBe(
      202,
    );
    expect(await eventsOf(h, sid)).toHaveLength(1);
  });

  it('frees the bytes of a body cut off by the request timeout', async () => {
    const h = await start({ worker: false, sourceBodyBytesInFlight: BOUND, requestTimeoutMs: 1000 });
    const { sid } = await newSubscriber(h);
    const source = await createSource(h, sid, { eventType: 'source.x', verification: VERIFICATION });
    const stalled = kept(stall(h, source.ingestUrl, DECLARED, 10));
    await waitFor(
      async () => held(h, sid),
      (bytes) => bytes === DECLARED,
      'the stalled body to be counted',
    );
    expect((await stalled.answer).status).toBe(408);
    await waitFor(
      async () => held(h, sid),
      (bytes) => bytes === 0,
      'the cut-off body to free its bytes',
    );
  });
});
