import { Worker } from 'node:worker_threads';
import { DEFAULT_METRICS_TIMEOUT_MS, DeliveryThread } from './delivery-thread-host';

/**
 * A stand-in for the delivery thread: it answers a metrics request after `delayMs` (never, when
 * null), with one counter, as delivery-thread.ts answers with its registry.
 */
function fakeThread(delayMs: number | null): Worker {
  const code = `
    const { parentPort } = require('node:worker_threads');
    parentPort.on('message', (m) => {
      if (m.type !== 'metrics' || ${delayMs === null}) return;
      setTimeout(() => parentPort.postMessage({ type: 'metrics', id: m.id, json: [
        { name: 'hookrelay_deliveries_total', help: 'd', type: 'counter', aggregator: 'sum', values: [{ labels: { outcome: 'delivered' }, value: 7 }] },
      ] }), ${delayMs ?? 0});
    });`;
  return new Worker(code, { eval: true });
}

describe("DeliveryThread's metrics", () => {
  const threads: Worker[] = [];
  afterEach(async () => {
    for (const thread of threads.splice(0)) await thread.terminate();
  });
  const attach = (delayMs: number | null, metricsTimeoutMs: number) => {
    const thread = fakeThread(delayMs);
    threads.push(thread);
    return DeliveryThread.attach(thread, { onUnexpectedExit: () => undefined, metricsTimeoutMs });
  };

  it("answers the thread's series when it answers in time", async () => {
    const json = await attach(0, 5000).metrics();
    expect(json).toEqual([
      expect.objectContaining({ name: 'hookrelay_deliveries_total', values: [{ labels: { outcome: 'delivered' }, value: 7 }] }),
    ]);
  });

  it('answers null after metricsTimeoutMs when the thread does not answer, so /metrics is not held with it', async () => {
    const host = attach(null, 50);
    const started = Date.now();
    expect(await host.metrics()).toBeNull();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("drops an answer that comes after the timeout, rather than take it for the next request's", async () => {
    const host = attach(150, 100);
    expect(await host.metrics()).toBeNull();
    // Sent at ~100 ms: the first request's late answer arrives at ~150 ms, this one's own at ~250 ms,
    // after its timeout at ~200 ms. Taking the late answer would make this an array.
    expect(await host.metrics()).toBeNull();
  });

  it('waits 2 s by default, well under the 10 s Prometheus gives a scrape', () => {
    expect(DEFAULT_METRICS_TIMEOUT_MS).toBe(2000);
  });
});
