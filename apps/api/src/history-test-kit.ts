// Test-only: what the history, replay and endpoint-health tests share on top of the API harness.
import { TestReceiver, useFixture, type FixtureScope, type Reply } from '@hookrelay/testing';
import type { ApiHarness } from './api-harness';

/** A subscriber as its own key sees it: `base` is `/v1/subscribers/<id>`. */
export interface Tenant {
  id: string;
  key: string;
  base: string;
}

/** A fresh subscriber, as its own key sees it, for each test (or the suite, with scope 'all'). */
export function useTenant(h: ApiHarness, name: string, scope: FixtureScope = 'each'): Tenant {
  return useFixture(
    () => createTenant(h, name),
    () => undefined,
    scope,
  );
}

export async function createTenant(h: ApiHarness, name: string): Promise<Tenant> {
  const res = await h.call('POST', '/v1/subscribers', { body: { name } });
  if (res.status !== 201) throw new Error(`creating subscriber: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, key: res.body.apiKey, base: `/v1/subscribers/${res.body.id}` };
}

/** A ReceiverPool whose receivers are closed after each test (or the suite, with scope 'all'). */
export function useReceiverPool(scope: FixtureScope = 'each'): ReceiverPool {
  const pool = new ReceiverPool();
  (scope === 'all' ? afterAll : afterEach)(() => pool.closeAll());
  return pool;
}

/** Receivers started by a test, closed together afterwards. */
export class ReceiverPool {
  private readonly started: TestReceiver[] = [];

  async start(fallback?: Reply): Promise<TestReceiver> {
    const receiver = await TestReceiver.start(fallback);
    this.started.push(receiver);
    return receiver;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.started.splice(0).map((r) => r.close()));
  }
}

/** Creates an endpoint with the tenant's key; fast retries unless the test says otherwise. */
export async function createEndpoint(
  h: ApiHarness,
  t: Tenant,
  url: string,
  body: Record<string, unknown> = {},
): Promise<{ id: string; secret: string }> {
  const res = await h.call('POST', `${t.base}/endpoints`, { key: t.key, body: { url, retry: { maxRetries: 0, intervalMs: 20 }, ...body } });
  if (res.status !== 201) throw new Error(`creating endpoint: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface Published {
  id: string;
  type: string;
  deliveries: Array<{ id: string; endpointId: string }>;
}

export async function publish(h: ApiHarness, t: Tenant, type: string, payload: Record<string, unknown> = {}): Promise<Published> {
  const res = await h.call('POST', `${t.base}/events`, { key: t.key, body: { type, payload } });
  if (res.status !== 202) throw new Error(`publishing: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `ok` holds, failing with the last value seen. */
export async function waitFor<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await sleep(20);
    last = await read();
  }
  return last;
}

/** The delivery as GET .../deliveries/:did shows it. */
export async function getDelivery(h: ApiHarness, t: Tenant, did: string): Promise<any> {
  const res = await h.call('GET', `${t.base}/deliveries/${did}`, { key: t.key });
  if (res.status !== 200) throw new Error(`reading delivery ${did}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Waits until the delivery is in `state` with at least `attempts` attempts recorded. */
export function waitForDelivery(h: ApiHarness, t: Tenant, did: string, state: string, attempts = 1): Promise<any> {
  return waitFor(
    () => getDelivery(h, t, did),
    (d) => d.state === state && d.attempts.length >= attempts,
    `${did} to be ${state} after ${attempts} attempt(s)`,
  );
}
