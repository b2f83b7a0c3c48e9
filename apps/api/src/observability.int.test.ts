import { connect } from 'node:net';
import { startQueueSampler } from '@hookrelay/delivery';
import { TestReceiver } from '@hookrelay/testing';
import { startApiHarness, type ApiHarness } from './api-harness';

/** `name{a="1",b="2"} value` lines of a Prometheus scrape, keyed by the line left of the value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const INCIDENT = { payload: { event_type: 'triggered', incident: { incident_number: 1, unique_id: 'u1', title: 'Disk full', status: 1 } } };

describe('metrics and logs', () => {
  async function waitForLine(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (let i = 0; i < 100; i++) {
      const line = h.logLines.find(match);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no such log line within 2 s');
  }

  let h: ApiHarness;
  let flaky: TestReceiver;
  let gone: TestReceiver;
  let sid: string;
  let subscriberKey: string;
  let secrets: string[];

  beforeAll(async () => {
    h = await startApiHarness();
    flaky = await TestReceiver.start();
    gone = await TestReceiver.start({ status: 404 });
    const sub = await h.call('POST', '/v1/subscribers', { body: { name: 'metrics' } });
    sid = sub.body.id;
    subscriberKey = sub.body.apiKey;
    const retry = { maxRetries: 2, intervalMs: 20, backoff: 'fixed' };
    const a = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
      key: subscriberKey,
      body: { url: flaky.url, eventTypes: ['incident.*'], retry },
    });
    const b = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
      key: subscriberKey,
      body: { url: gone.url, eventTypes: ['incident.*'], retry },
    });
    secrets = [a.body.secret, b.body.secret, subscriberKey];
    flaky.enqueue({ status: 500 }, { status: 200 });
    await h.call('POST', `/v1/subscribers/${sid}/events`, {
      body: { type: 'incident.triggered', payload: INCIDENT },
      headers: { 'x-request-id': 'req-from-caller-1' },
    });
    await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.order.paid', payload: { order: 7 } } });
    await flaky.waitForRequests(2);
    await gone.waitForRequests(1);
    // The failed delivery's record is written just after the receiver answers.
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      const m = parseMetrics(await (await fetch(`${h.baseUrl}/metrics`)).text());
      if (
        (m.get('hookrelay_deliveries_total{outcome="failed"}') ?? 0) >= 1 &&
        (m.get('hookrelay_deliveries_total{outcome="delivered"}') ?? 0) >= 1
      )
        break;
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  afterAll(async () => {
    await h.close();
    await flaky.close();
    await gone.close();
  });

  it('counts a publish, a retry, a delivery and a failure', async () => {
    const m = parseMetrics(await (await fetch(`${h.baseUrl}/metrics`)).text());
    expect(m.get('hookrelay_events_published_total{type="incident.triggered"}')).toBe(1);
    // Custom types are folded into one label value, so publishers cannot grow the series count.
    expect(m.get('hookrelay_events_published_total{type="custom"}')).toBe(1);
    expect(m.get('hookrelay_delivery_attempts_total{outcome="retry",status_class="5xx"}')).toBe(1);
    expect(m.get('hookrelay_delivery_attempts_total{outcome="delivered",status_class="2xx"}')).toBe(1);
    expect(m.get('hookrelay_delivery_attempts_total{outcome="failed",status_class="4xx"}')).toBe(1);
    expect(m.get('hookrelay_deliveries_total{outcome="delivered"}')).toBe(1);
    expect(m.get('hookrelay_deliveries_total{outcome="failed"}')).toBe(1);
    expect(m.get('hookrelay_delivery_attempt_duration_seconds_count')).toBe(3);
    expect(m.get('hookrelay_end_to_end_seconds_count')).toBe(1);
  });

  it('labels no series with an endpoint, subscriber or URL', async () => {
    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    for (const needle of [sid, flaky.url, gone.url, 'ep_', 'sub_', '127.0.0.1']) expect(text).not.toContain(needle);
  });

  it('samples queue depth and endpoints by status into gauges', async () => {
    const parked = await TestReceiver.start({ status: 500 });
    const ep = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
      key: subscriberKey,
      body: { url: parked.url, eventTypes: ['custom.parked'], retry: { maxRetries: 1, intervalMs: 600_000, backoff: 'fixed' } },
    });
    await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.parked', payload: {} } });
    await parked.waitForRequests(1);
    await h.call('PATCH', `/v1/subscribers/${sid}/endpoints/${ep.body.id}`, { key: subscriberKey, body: { description: 'parked' } });
    const sampler = startQueueSampler({ queues: [], store: h.store, metrics: h.metrics, logger: h.deps.logger, intervalMs: 60_000 });
    try {
      // The first sample starts the endpoint index's first build (this data's prefix is new to it).
      await sampler.sample();
      await sampler.indexBuild();
      const until = Date.now() + 5000;
      let m = new Map<string, number>();
      while (Date.now() < until) {
        await sampler.sample();
        m = parseMetrics(await (await fetch(`${h.baseUrl}/metrics`)).text());
        if (m.get('hookrelay_queue_jobs{state="delayed"}') === 1) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(m.get('hookrelay_queue_jobs{state="delayed"}')).toBe(1);
      expect(m.get('hookrelay_queue_jobs{state="waiting"}')).toBe(0);
      expect(m.get('hookrelay_endpoints{status="active"}')).toBe(3);
      expect(m.get('hookrelay_oldest_pending_seconds')).toBe(0);
    } finally {
      sampler.stop();
      await parked.close();
    }
  });

  it('echoes a caller’s X-Request-Id, makes one up otherwise, and logs the request under it', async () => {
    const given = await h.call('GET', '/v1/event-types', { headers: { 'x-request-id': 'trace-abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc-123');
    const made = await h.call('GET', '/v1/event-types');
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await h.call('GET', '/v1/event-types', { headers: { 'x-request-id': 'has spaces\tand tabs' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const line = h.logLines.find((l) => l.msg === 'request.completed' && (l.req as { id?: string })?.id === 'trace-abc-123');
    expect(line).toMatchObject({ req: { method: 'GET', url: '/v1/event-types' }, res: { statusCode: 200 } });
    expect(typeof line?.responseTime).toBe('number');
  });

  it('logs a request whose client left before the answer as request.aborted, with what was known of it', async () => {
    const { port } = new URL(h.baseUrl);
    // Headers promising a 1000-byte body, 10 bytes of it, then the client goes away.
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /v1/subscribers/${sid}/events HTTP/1.1\r\nHost: x\r\nX-Request-Id: left-early-1\r\nAuthorization: Bearer ${subscriberKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":"i`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
      socket.on('error', reject);
    });
    const line = await waitForLine((l) => (l.req as { id?: string } | undefined)?.id === 'left-early-1');
    expect(line).toMatchObject({ msg: 'request.aborted', level: 'warn', req: { method: 'POST', url: `/v1/subscribers/${sid}/events` } });
    expect(JSON.stringify(line)).not.toContain(subscriberKey);
  });

  it('writes one delivery.attempted line per attempt with the same fields', () => {
    const attempts = h.logLines.filter((l) => l.msg === 'delivery.attempted');
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    const fields = ['attempt', 'deliveryId', 'durationMs', 'endpointId', 'errorKind', 'eventId', 'outcome', 'status'];
    for (const line of attempts) expect(Object.keys(line)).toEqual(expect.arrayContaining(fields));
  });

  it('never logs a key, a signing secret or an authorization header', () => {
    const all = JSON.stringify(h.logLines);
    expect(all).toContain('request.completed');
    for (const secret of [...secrets, h.adminKey]) expect(all).not.toContain(secret);
    expect(all.toLowerCase()).not.toContain('bearer ');
  });
});
