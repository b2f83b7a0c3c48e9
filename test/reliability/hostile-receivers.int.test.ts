import type { AttemptRecord, DeliveryRecord } from '@hookrelay/contracts';
import { RESPONSE_BODY_KEEP_BYTES } from '@hookrelay/contracts';
import { capsFor, DEFAULT_SCHEDULING } from '@hookrelay/delivery';
import { startRedisServer, TestReceiver, type RedisServerHandle } from '@hookrelay/testing';
import {
  startChunkExtensionReceiver,
  startEarlyHintsReceiver,
  startHangingReceiver,
  startHugeBodyReceiver,
  startResetReceiver,
  startTrickleReceiver,
  type HostileReceiver,
} from './support/hostile-receivers';
import { startReliabilityApi, type ReliabilityApi } from './support/reliability-api';
import { percentile, waitFor } from './support/wait';

const TIMEOUT_MS = 1000;
/** An attempt may overrun its deadline by this much (timer granularity, a busy event loop). */
const SLACK_MS = 500;

describe('when receivers misbehave on purpose', () => {
  let redis: RedisServerHandle;
  let api: ReliabilityApi;
  let sid: string;
  const receivers: Array<Pick<HostileReceiver, 'url' | 'close'>> = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    // Production defaults: 100 deliveries in flight, 64 connections per origin.
    api = await startReliabilityApi({ redisUrl: redis.url, worker: { concurrency: 100 } });
    sid = (await api.call('POST', '/v1/subscribers', { body: { name: 'hostile' } })).body.id;
  });

  afterAll(async () => {
    // Receivers first: their sockets closing ends the attempts a worker shutdown would wait for.
    for (const r of receivers) await r.close();
    await api.close();
    await redis.stop();
  });

  /** Registers an endpoint for `receiver` that takes events of `type`, one attempt each; closes the receiver after all. */
  async function endpointFor(receiver: Pick<HostileReceiver, 'url' | 'close'>, type: string, timeoutMs = TIMEOUT_MS): Promise<string> {
    receivers.push(receiver);
    const res = await api.call('POST', `/v1/subscribers/${sid}/endpoints`, {
      body: { url: receiver.url, eventTypes: [type], timeoutMs, retry: { maxRetries: 0, intervalMs: 1000, backoff: 'fixed' } },
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function publish(type: string, count: number): Promise<string[]> {
    const events = Array.from({ length: count }, (_, n) => ({ type, payload: { n } }));
    const ids: string[] = [];
    for (let i = 0; i < events.length; i += 500) {
      const res = await api.call('POST', `/v1/subscribers/${sid}/events/batch`, { body: { events: events.slice(i, i + 500) } });
      expect(res.status).toBe(202);
      for (const e of res.body.events as Array<{ deliveries: Array<{ id: string }> }>) ids.push(...e.deliveries.map((d) => d.id));
    }
    return ids;
  }

  async function finished(deliveryIds: string[], timeoutMs: number): Promise<DeliveryRecord[]> {
    return waitFor(
      `${deliveryIds.length} deliveries to finish`,
      async () => {
        const all = await api.store.deliveries.getMany(deliveryIds);
        return all.length === deliveryIds.length && all.every((d) => d.state === 'delivered' || d.state === 'failed') ? all : undefined;
      },
      timeoutMs,
      100,
    );
  }

  describe.each<[string, () => Promise<HostileReceiver>, AttemptRecord['errorKind']]>([
    ['accepts and never answers', startHangingReceiver, 'timeout'],
    ['trickles its status line and headers a byte per second', () => startTrickleReceiver('headers'), 'timeout'],
    ['answers headers, then trickles the body a byte per second', () => startTrickleReceiver('body'), 'timeout'],
    ['resets the connection', startResetReceiver, 'connection_reset'],
    // Each used to keep the worker parsing until the deadline; now cut long before it.
    ['streams 103 Early Hints and never a final response', startEarlyHintsReceiver, 'network'],
    ['streams a chunked body of 60 KB chunk extensions', startChunkExtensionReceiver, 'network'],
  ])('when the receiver %s', (_label, start, errorKind) => {
    it(`ends the attempt within timeoutMs with errorKind ${errorKind}`, async () => {
      const receiver = await start();
      const type = `custom.hostile-${receivers.length}`;
      await endpointFor(receiver, type);
      const [id] = await publish(type, 1);
      const [delivery] = await finished([id as string], 10_000);
      const [attempt] = await api.store.deliveries.attempts(id as string);
      expect(delivery).toMatchObject({ state: 'failed', attempts: 1, lastErrorKind: errorKind });
      expect(attempt).toMatchObject({ outcome: 'failed', errorKind });
      expect(attempt?.statusCode).toBeUndefined();
      expect(attempt?.durationMs).toBeLessThanOrEqual(TIMEOUT_MS + SLACK_MS);
      // The worker hung up: the socket did not stay open past the deadline.
      await waitFor('the connection to close', () => receiver.open === 0, 2000);
      expect(Math.max(...receiver.lifetimesMs)).toBeLessThanOrEqual(TIMEOUT_MS + SLACK_MS);
      console.log(`hostile-receivers: ${_label}: ${errorKind} after ${attempt?.durationMs} ms`);
    });
  });

  describe('when the receiver answers with a 100 MB body', () => {
    it('reads a few KB, stores at most 4 KB and keeps the worker heap bounded', async () => {
      const receiver = await startHugeBodyReceiver();
      await endpointFor(receiver, 'custom.huge', 5000);
      const COUNT = 20;
      const baseline = process.memoryUsage();
      let peakHeap = baseline.heapUsed;
      let peakRss = baseline.rss;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakRss = Math.max(peakRss, m.rss);
      }, 20);
      const started = Date.now();
      let deliveries: DeliveryRecord[];
      try {
        deliveries = await finished(await publish('custom.huge', COUNT), 30_000);
      } finally {
        clearInterval(sampler);
      }
      const elapsedMs = Date.now() - started;
      expect(deliveries.map((d) => d.state)).toEqual(Array(COUNT).fill('delivered'));
      for (const d of deliveries) {
        const [attempt] = await api.store.deliveries.attempts(d.id);
        expect(attempt?.statusCode).toBe(200);
        expect(Buffer.byteLength(attempt?.responseBody ?? '', 'utf8')).toBeLessThanOrEqual(RESPONSE_BODY_KEEP_BYTES);
        expect(attempt?.responseBody?.length).toBeGreaterThan(0);
      }
      await waitFor('the connections to close', () => receiver.open === 0, 5000);
      const sentMb = receiver.bytesSent.map((b) => b / 1024 / 1024);
      const heapGrowthMb = (peakHeap - baseline.heapUsed) / 1024 / 1024;
      const rssGrowthMb = (peakRss - baseline.rss) / 1024 / 1024;
      console.log(
        `hostile-receivers: 100 MB bodies x${COUNT} in ${elapsedMs} ms; the receiver got to send at most ${Math.max(...sentMb).toFixed(2)} MB per connection ` +
          `(${sentMb.reduce((a, b) => a + b, 0).toFixed(1)} MB in all, of ${COUNT * 100} MB offered); heap +${heapGrowthMb.toFixed(1)} MB, rss +${rssGrowthMb.toFixed(1)} MB at peak`,
      );
      // Kernel socket buffers let a sender get a few MB ahead of a reader; 100 MB read would be 100 MB here.
      expect(Math.max(...sentMb)).toBeLessThan(16);
      expect(heapGrowthMb).toBeLessThan(100);
    });
  });

  /**
   * BullMQ's concurrency is shared by every endpoint. Before the worker capped what one endpoint may
   * hold, 500 queued deliveries to a hanging endpoint took all 100 slots and the healthy endpoint got
   * nothing until they timed out (0 of 300 in 15 s). Now the hanging endpoint holds its share (a
   * quarter of the lane) and the rest wait in its lane, holding nothing (docs/delivery-scheduling.md);
   * test/reliability/isolation.int.test.ts goes further.
   */
  describe('when one endpoint hangs with 500 deliveries in flight', () => {
    const HEALTHY = 300;
    const HANGING = 500;
    const HANG_TIMEOUT_MS = 25_000;

    it('keeps delivering to a healthy endpoint at speed', async () => {
      const healthy = await TestReceiver.start({ status: 200 });
      const hanging = await startHangingReceiver();
      await endpointFor({ url: healthy.url, close: () => healthy.close() }, 'custom.healthy');
      await endpointFor(hanging, 'custom.slow', HANG_TIMEOUT_MS);

      /** Publishes `HEALTHY` events in batches of 50 and times each from its publish to its arrival. */
      const measure = async (label: string) => {
        const before = healthy.requests.length;
        const publishedAt = new Map<string, number>();
        const started = Date.now();
        for (let i = 0; i < HEALTHY; i += 50) {
          const at = Date.now();
          const res = await api.call('POST', `/v1/subscribers/${sid}/events/batch`, {
            body: { events: Array.from({ length: 50 }, (_, n) => ({ type: 'custom.healthy', payload: { n: i + n } })) },
          });
          expect(res.status).toBe(202);
          for (const e of res.body.events as Array<{ id: string }>) publishedAt.set(e.id, at);
        }
        await healthy.waitForRequests(before + HEALTHY, 15_000);
        const mine = healthy.requests.slice(before);
        const latencies = mine.map((r) => r.receivedAt - (publishedAt.get(String(r.headers['x-hookrelay-event-id'])) ?? NaN));
        const result = {
          label,
          ms: Math.max(...mine.map((r) => r.receivedAt)) - started,
          perSecond: Math.round((HEALTHY * 1000) / (Math.max(...mine.map((r) => r.receivedAt)) - started)),
          p50: percentile(latencies, 50),
          p95: percentile(latencies, 95),
          max: Math.max(...latencies),
        };
        console.log(`hostile-receivers: healthy endpoint ${JSON.stringify(result)}`);
        return result;
      };

      await measure('warm-up');
      const quiet = await measure('alone');
      const slowIds = await publish('custom.slow', HANGING);
      const cap = capsFor(100, DEFAULT_SCHEDULING).endpoint;
      await waitFor('the hanging endpoint to hold its share of the slots', () => hanging.open >= cap, 10_000);
      const loaded = await measure(`beside ${HANGING} hanging deliveries`);

      // The hanging deliveries were in flight (or waiting their turn) the whole time.
      const slow = await api.store.deliveries.getMany(slowIds);
      expect(slow.filter((d) => d.state === 'delivered' || d.state === 'failed')).toHaveLength(0);
      expect(hanging.open).toBeGreaterThan(0);
      // Its share and no more: the other 475 waited in its lane.
      expect(hanging.connections).toBe(cap);
      console.log(`hostile-receivers: hanging endpoint holds ${hanging.open} connections (${hanging.connections} opened)`);
      // Generous bounds: the point is "keeps flowing", not a benchmark.
      expect(loaded.p95).toBeLessThan(Math.max(2000, quiet.p95 * 10));
      expect(loaded.ms).toBeLessThan(Math.max(5000, quiet.ms * 10));

      // The deliveries that waited were not lost and not charged an attempt: once the receiver is
      // gone, each of the 500 makes exactly one attempt (maxRetries 0) and fails.
      await hanging.close();
      const ended = await finished(slowIds, 20_000);
      expect(ended.filter((d) => d.state !== 'failed' || d.attempts !== 1)).toEqual([]);
      expect(api.logLines.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    }, 60_000);
  });
});
