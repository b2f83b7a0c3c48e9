import { createHmac } from 'node:crypto';
import { startApiHarness, type ApiHarness } from '../api-harness';
import { createSource, historyOf, newSubscriber } from './source-test-kit';

const SECRET = 'cold-burst-secret-0123456789';
const BURST = 20;

/**
 * A burst of signed requests as a fresh API process's first ingest traffic. Before the fix, the first
 * request history write defined its Redis script (hookrelayAppendLog) on first use, while the other
 * requests' commands already filled that tick's auto-pipeline; the pipeline lacked the method, and
 * ioredis's exec callback threw `results[i] is not iterable` outside any promise: an uncaught
 * exception that killed the process (redis/ioredis#1931), the tick's other commands never answered.
 */
describe('ingest: a cold burst', () => {
  // Jest fails the test on an uncaught exception (that is how the crash shows here).
  let h: ApiHarness | undefined;

  afterAll(async () => {
    // Bounded: after the crash, the harness's store connection no longer sends, and its close waits.
    await Promise.race([h?.close(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  });

  it(`answers ${BURST} concurrent signed requests sent as a fresh API process's first ingest requests`, async () => {
    h = await startApiHarness({ worker: false });
    const { sid } = await newSubscriber(h);
    const source = await createSource(h, sid, {
      eventType: 'custom.cold_burst',
      verification: { type: 'hmac', header: 'X-Sig', algorithm: 'sha256', encoding: 'hex', secret: SECRET },
    });
    const harness = h;
    const statuses = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const body = JSON.stringify({ i });
        try {
          const res = await fetch(`${harness.baseUrl}${source.ingestUrl}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-sig': createHmac('sha256', SECRET).update(body).digest('hex') },
            body,
            // A request whose Redis command was lost with the tick's pipeline is never answered.
            signal: AbortSignal.timeout(5_000),
          });
          await res.text();
          return res.status;
        } catch (err) {
          return (err as Error).name;
        }
      }),
    );
    expect(statuses).toEqual(Array.from({ length: BURST }, () => 202));
    expect(await historyOf(h, sid, source.id, `?limit=${BURST}`)).toHaveLength(BURST);
  });
});
