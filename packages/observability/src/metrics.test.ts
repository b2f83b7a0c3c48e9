import { createMetrics, exposeWithThreads } from './metrics';

describe('exposeWithThreads', () => {
  it("sums a thread's series into the process's own, and passes the process's other series through", async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.deliveries.inc({ outcome: 'delivered' }, 2);
    metrics.eventsPublished.inc({ type: 'custom' }, 3);
    const thread = [
      {
        name: 'hookrelay_deliveries_total',
        help: 'h',
        type: 'counter',
        aggregator: 'sum',
        values: [{ labels: { outcome: 'delivered' }, value: 5 }],
      },
    ] as unknown as Parameters<typeof exposeWithThreads>[1][number];
    const { text } = await exposeWithThreads(metrics.registry, [thread]);
    expect(text).toMatch(/^hookrelay_deliveries_total\{outcome="delivered"\} 7$/m);
    expect(text).toMatch(/^hookrelay_events_published_total\{type="custom"\} 3$/m);
  });

  it("with no thread's answer (it did not answer in time), exposes the process's own series as they are", async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.deliveries.inc({ outcome: 'delivered' }, 2);
    const { text, contentType } = await exposeWithThreads(metrics.registry, []);
    expect(contentType).toBe(metrics.registry.contentType);
    expect(text.trim()).toBe((await metrics.registry.metrics()).trim());
    expect(text).toMatch(/^hookrelay_deliveries_total\{outcome="delivered"\} 2$/m);
  });
});
