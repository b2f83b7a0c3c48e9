import { everythingStoredUnder, useTestReceiver, type ReceivedRequest, type TestReceiver } from '@hookrelay/testing';
import { useApiHarness, type ApiHarness } from './api-harness';
import { newSubscriber } from './sources/source-test-kit';
import { MAX_RECEIVER_WAITS_IN_FLIGHT } from './subscriber-limits';

/**
 * Holds every request to a path under /held open until `release()`; then, and for any other path
 * at once, answers 200 with the request's challenge, which passes every verify mode.
 */
function holdRequests(receiver: TestReceiver): { release(): void } {
  const held: Array<() => void> = [];
  let released = false;
  receiver.answerWith((req: ReceivedRequest, res) => {
    const answer = () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(new URL(req.url, 'http://receiver').searchParams.get('challenge') ?? '');
    };
    if (req.url.startsWith('/held') && !released) held.push(answer);
    else answer();
  });
  return {
    release: () => {
      released = true;
      for (const answer of held.splice(0)) answer();
    },
  };
}

/** What Redis holds for the harness, in order: compared before and after a refusal that must write nothing. */
async function storedBy(h: ApiHarness): Promise<string[]> {
  return (await everythingStoredUnder(h.redis, h.prefix)).sort();
}

/**
 * Endpoints in these tests time out after 5 s: without the cap, the request over it would wait
 * that long on the held receiver and then fail the test, instead of hanging it.
 */
const TIMEOUT_MS = 5000;

describe('endpoint verifications in flight', () => {
  const receiver = useTestReceiver(undefined, 'each');
  const h = useApiHarness({ worker: false }, 'each');

  const create = (sid: string, path: string, verify = 'challenge') =>
    h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: `${receiver.url}${path}`, verify, timeoutMs: TIMEOUT_MS } });
  const patch = (sid: string, eid: string, body: Record<string, unknown>) =>
    h.call('PATCH', `/v1/subscribers/${sid}/endpoints/${eid}`, { body });
  const testSend = (sid: string, eid: string) => h.call('POST', `/v1/subscribers/${sid}/endpoints/${eid}/test`, { body: {} });

  it(`holds a subscriber to ${MAX_RECEIVER_WAITS_IN_FLIGHT} verifications at once on create: one more is 429 and stores nothing, another subscriber's proceeds, released the places are free`, async () => {
    expect(MAX_RECEIVER_WAITS_IN_FLIGHT).toBe(5);
    const holding = holdRequests(receiver);
    const { sid } = await newSubscriber(h);
    const { sid: other } = await newSubscriber(h, 'Other');
    const waiting = ['post', 'get', 'challenge', 'get', 'post'].map((verify, i) => create(sid, `/held/${i}`, verify));
    await receiver.waitForRequests(5);
    const before = await storedBy(h);
    const over = await create(sid, '/held/over', 'get');
    expect([over.status, over.body.error.code, over.headers.get('retry-after')]).toEqual([429, 'verifications_in_flight', '1']);
    expect(over.body.error.details).toEqual([{ path: 'verify', message: 'at most 5 at once' }]);
    // Refused before the endpoint was called, and nothing written: no endpoint, no quota taken.
    expect(receiver.requests).toHaveLength(5);
    expect(await storedBy(h)).toEqual(before);
    expect((await create(other, '/now')).status).toBe(201);
    holding.release();
    for (const created of await Promise.all(waiting)) expect(created.status).toBe(201);
    expect((await create(sid, '/held/again')).status).toBe(201);
    expect((await h.call('GET', `/v1/subscribers/${sid}`)).body.usage.endpoints).toBe(6);
  });

  it('counts a PATCH that changes the URL: the one over the cap is 429 and leaves the endpoint as it was; other changes pass', async () => {
    const holding = holdRequests(receiver);
    const { sid } = await newSubscriber(h);
    const { sid: other } = await newSubscriber(h, 'Other');
    const [moving, refused, others] = await Promise.all([create(sid, '/a'), create(sid, '/b'), create(other, '/c')]);
    const waiting = [
      patch(sid, moving.body.id, { url: `${receiver.url}/held/a`, verify: 'get' }),
      ...[0, 1, 2, 3].map((i) => create(sid, `/held/${i}`)),
    ];
    await receiver.waitForRequests(3 + 5);
    const before = await storedBy(h);
    // The stored mode (challenge) verifies the new URL, as a `verify` in the body would.
    const over = await patch(sid, refused.body.id, { url: `${receiver.url}/held/b`, description: 'moved' });
    expect([over.status, over.body.error.code, over.body.error.details]).toEqual([
      429,
      'verifications_in_flight',
      [{ path: 'verify', message: 'at most 5 at once' }],
    ]);
    expect(receiver.requests).toHaveLength(3 + 5);
    expect(await storedBy(h)).toEqual(before);
    // A PATCH that calls no receiver is not counted; another subscriber's URL change proceeds.
    expect((await patch(sid, refused.body.id, { description: 'renamed' })).status).toBe(200);
    expect((await patch(other, others.body.id, { url: `${receiver.url}/c2` })).status).toBe(200);
    expect((await h.call('GET', `/v1/subscribers/${sid}/endpoints/${refused.body.id}`)).body).toMatchObject({
      url: `${receiver.url}/b`,
      description: 'renamed',
    });
    holding.release();
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([200, 201, 201, 201, 201]);
    const moved = await patch(sid, refused.body.id, { url: `${receiver.url}/held/b` });
    expect([moved.status, moved.body.url]).toEqual([200, `${receiver.url}/held/b`]);
  });

  it('shares the places with test sends: with five of the two kinds waiting, a sixth of either is 429 under its own code', async () => {
    const holding = holdRequests(receiver);
    const { sid } = await newSubscriber(h);
    const endpoint = (
      await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: `${receiver.url}/held/test`, timeoutMs: TIMEOUT_MS } })
    ).body.id as string;
    const sends = [0, 1, 2].map(() => testSend(sid, endpoint));
    const verifications = [0, 1].map((i) => create(sid, `/held/${i}`));
    await receiver.waitForRequests(5);
    const overCreate = await create(sid, '/held/over');
    const overSend = await testSend(sid, endpoint);
    expect([overCreate.status, overCreate.body.error.code]).toEqual([429, 'verifications_in_flight']);
    expect([overSend.status, overSend.body.error.code]).toEqual([429, 'test_sends_in_flight']);
    expect(overSend.body.error.message).toBe(
      'the subscriber has 5 test sends and endpoint verifications waiting on their receivers at once; retry after one ends',
    );
    expect(receiver.requests).toHaveLength(5);
    holding.release();
    for (const sent of await Promise.all(sends)) expect(sent.body.attempt).toMatchObject({ statusCode: 200 });
    for (const created of await Promise.all(verifications)) expect(created.status).toBe(201);
    expect((await create(sid, '/held/again')).status).toBe(201);
    expect((await testSend(sid, endpoint)).status).toBe(200);
  });
});
