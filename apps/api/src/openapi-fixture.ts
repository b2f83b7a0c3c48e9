// Test-only: the resources the OpenAPI test needs to call every documented operation for real.
import type { DeliveryState } from '@hookrelay/contracts';
import { TestReceiver } from '@hookrelay/testing';
import type { ApiHarness } from './api-harness';

export interface OpenApiFixture {
  receiver: TestReceiver;
  sid: string;
  /** An endpoint at the receiver that takes every type. */
  endpointId: string;
  /** A delivery to it that has ended (delivered), so a retry request is accepted. */
  deliveryId: string;
  /** Another delivered event: replaying it re-opens its own delivery, not `deliveryId`. */
  eventId: string;
  /** A delivery whose next attempt is an hour away: retrying it is a 409. */
  retryingDeliveryId: string;
  sourceId: string;
  /** A subscriber whose endpoint and source quotas are 0: every create is over them. */
  fullSid: string;
  /** A publisher key made only to be revoked by DELETE /v1/api-keys/{kid}. */
  apiKeyId: string;
  /** An operator-defined event type (archived by the DELETE, which runs last). */
  eventType: string;
  /** A portal session made only to be revoked by DELETE .../portal-sessions/{id}. */
  portalSessionId: string;
  /** The secret part of the source's ingest URL. */
  ingestToken: string;
  /** Headers that pass the source's verification. */
  ingestHeaders: Record<string, string>;
  close(): Promise<void>;
}

const INGEST_HEADER = { 'x-openapi-token': 'openapi-fixture-shared-secret' };

async function call(h: ApiHarness, method: string, path: string, body: unknown, expected: number): Promise<any> {
  const res = await h.call(method, path, { body });
  if (res.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function waitForState(h: ApiHarness, deliveryId: string, state: DeliveryState, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const delivery = await h.store.deliveries.get(deliveryId);
    if (delivery?.state === state) return;
    if (Date.now() > deadline)
      throw new Error(`delivery ${deliveryId} is ${delivery?.state ?? 'missing'}, not ${state}, after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A subscriber with two endpoints at a local receiver (one answers 200; one, under /failing, 503
 * with an hour between retries), three published events once their deliveries have settled, and a
 * source with header verification that has had one good and one bad request. Needs a harness with
 * a worker.
 */
export async function createOpenApiFixture(h: ApiHarness): Promise<OpenApiFixture> {
  const receiver = await TestReceiver.start((req, res) => {
    const failing = req.url.startsWith('/failing');
    res.writeHead(failing ? 503 : 200, { 'content-type': 'text/plain' });
    res.end(failing ? 'unavailable' : 'ok');
  });
  try {
    const sid: string = (await call(h, 'POST', '/v1/subscribers', { name: 'openapi fixture' }, 201)).id;
    const base = `/v1/subscribers/${sid}`;
    const endpointId: string = (await call(h, 'POST', `${base}/endpoints`, { url: `${receiver.url}/hook` }, 201)).id;
    const failingId: string = (
      await call(
        h,
        'POST',
        `${base}/endpoints`,
        { url: `${receiver.url}/failing`, eventTypes: ['custom.openapi.failing'], retry: { maxRetries: 1, intervalMs: 3_600_000 } },
        201,
      )
    ).id;

    const publish = async (type: string) =>
      (await call(h, 'POST', `${base}/events`, { type, payload: { fixture: type } }, 202)) as {
        id: string;
        deliveries: Array<{ id: string; endpointId: string }>;
      };
    const deliveryTo = (event: Awaited<ReturnType<typeof publish>>, id: string): string => {
      const found = event.deliveries.find((d) => d.endpointId === id);
      if (!found) throw new Error(`event ${event.id} has no delivery to ${id}`);
      return found.id;
    };
    const delivered = await publish('custom.openapi.delivered');
    const replayed = await publish('custom.openapi.replayed');
    const failing = await publish('custom.openapi.failing');
    const deliveryId = deliveryTo(delivered, endpointId);
    const retryingDeliveryId = deliveryTo(failing, failingId);
    await Promise.all([
      waitForState(h, deliveryId, 'delivered'),
      waitForState(h, deliveryTo(replayed, endpointId), 'delivered'),
      waitForState(h, deliveryTo(failing, endpointId), 'delivered'),
      waitForState(h, retryingDeliveryId, 'retrying'),
    ]);

    const source = await call(
      h,
      'POST',
      `${base}/sources`,
      { name: 'openapi fixture', eventType: 'source.openapi.fixture', verification: { type: 'header', headers: INGEST_HEADER } },
      201,
    );
    const ingestToken = String(source.ingestUrl).replace(/^\/in\//, '');
    // Its history: one request published, one rejected (so the listing shows both shapes).
    for (const [headers, expected] of [
      [INGEST_HEADER, 202],
      [{ 'x-openapi-token': 'wrong' }, 401],
    ] as const) {
      const res = await fetch(`${h.baseUrl}/in/${ingestToken}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"fixture":true}',
      });
      await res.arrayBuffer();
      if (res.status !== expected) throw new Error(`ingest: expected ${expected}, got ${res.status}`);
    }

    const spareKey = (await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } })).body as { id: string };
    const fullSid: string = (await call(h, 'POST', '/v1/subscribers', { name: 'openapi fixture at its quotas' }, 201)).id;
    await call(h, 'PATCH', `/v1/subscribers/${fullSid}`, { limits: { maxEndpoints: 0, maxSources: 0 } }, 200);
    const eventType = 'openapi.fixture';
    await call(
      h,
      'POST',
      '/v1/event-types',
      {
        type: eventType,
        description: "The OpenAPI test's own type.",
        schema: { type: 'object', properties: { n: { type: 'integer' } } },
        examples: [{ n: 1 }],
      },
      201,
    );
    const spareSession = (await call(h, 'POST', `${base}/portal-sessions`, { ttlSeconds: 600 }, 201)) as { id: string };
    return {
      receiver,
      sid,
      endpointId,
      deliveryId,
      eventId: replayed.id,
      retryingDeliveryId,
      sourceId: source.id,
      fullSid,
      apiKeyId: spareKey.id,
      eventType,
      portalSessionId: spareSession.id,
      ingestToken,
      ingestHeaders: { ...INGEST_HEADER },
      close: () => receiver.close(),
    };
  } catch (err) {
    await receiver.close();
    throw err;
  }
}
