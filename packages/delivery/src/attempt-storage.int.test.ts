import { ATTEMPT_LIMITS, OMITTED_HEADERS_KEY } from '@hookrelay/store';
import { buildEndpoint, buildEvent, useTestReceiver } from '@hookrelay/testing';
import { useEngineHarness } from './engine-harness';

/**
 * What an attempt costs in Redis at most, measured on real attempts: an endpoint saved by an
 * older version with custom headers far over today's 8 KB cap, and a receiver that answers 4 KB
 * of control characters (6 bytes each once escaped). docs/operations.md "Redis memory" quotes these bounds.
 */
const WORST_ATTEMPT_JSON_BYTES = 10_400;
const WORST_ATTEMPT_REDIS_BYTES = 12_500;

describe('the Redis cost of one attempt is bounded, whatever the endpoint and the receiver', () => {
  const h = useEngineHarness({}, 'each');
  const receiver = useTestReceiver(undefined, 'each');

  it('stores each attempt within the documented bytes', async () => {
    // 40 headers of 300 bytes: 12 KB, what an endpoint created before the 8 KB cap may still carry (Node's receiver takes up to 16 KB).
    const headers = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-legacy-${String(i).padStart(2, '0')}`, 'h'.repeat(300)]));
    const controls = '\u0001'.repeat(4096);
    receiver.enqueue(
      { status: 500, body: controls },
      { status: 500, body: controls },
      { status: 500, body: controls },
      { status: 500, body: controls },
    );
    const endpoint = await h.saveEndpoint(
      buildEndpoint({ url: receiver.url, headers, retry: { maxRetries: 3, intervalMs: 10, backoff: 'fixed' } }),
    );
    const id = await h.enqueue(buildEvent({ type: 'custom.order.paid' }), endpoint);
    const done = await h.waitForState(id, ['failed']);
    expect(done.attempts).toBe(4);
    // The receiver did get every header: only the record is bounded.
    expect(Object.keys(receiver.requests[0]!.headers).filter((k) => k.startsWith('x-legacy-'))).toHaveLength(40);

    const stored = await h.redis.lrange(h.store.keys.deliveryAttempts(id), 0, -1);
    expect(stored).toHaveLength(4);
    for (const raw of stored) {
      expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(WORST_ATTEMPT_JSON_BYTES);
      const attempt = JSON.parse(raw);
      expect(Buffer.byteLength(JSON.stringify(attempt.requestHeaders))).toBeLessThanOrEqual(ATTEMPT_LIMITS.requestHeadersJsonBytes);
      expect(attempt.requestHeaders).toMatchObject({
        'x-hookrelay-delivery-id': id,
        'x-hub-signature': expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(attempt.requestHeaders[OMITTED_HEADERS_KEY]).toMatch(/^\d+ headers over the 2 KB record limit$/);
      for (const [name, value] of Object.entries<string>(attempt.requestHeaders))
        if (name.startsWith('x-legacy-')) expect(value).toBe(`${'h'.repeat(253)}…`);
      expect(Buffer.byteLength(JSON.stringify(attempt.responseBody))).toBeLessThanOrEqual(ATTEMPT_LIMITS.responseBodyJsonBytes + 2);
      expect(attempt.responseBody.length).toBeGreaterThan(1000);
    }
    const listBytes = Number(await h.redis.call('MEMORY', 'USAGE', h.store.keys.deliveryAttempts(id), 'SAMPLES', '0'));
    const recordBytes = Number(await h.redis.call('MEMORY', 'USAGE', h.store.keys.delivery(id), 'SAMPLES', '0'));
    console.log(
      `attempt storage: ${stored.map((s) => Buffer.byteLength(s)).join(', ')} bytes of JSON; list ${listBytes} B for 4 attempts (${Math.round(listBytes / 4)} B each); delivery record ${recordBytes} B`,
    );
    expect(listBytes / 4).toBeLessThanOrEqual(WORST_ATTEMPT_REDIS_BYTES);
  });
});
