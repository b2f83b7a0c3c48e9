import type { Pool } from 'undici';

/**
 * A client of Hookrelay's HTTP API over an undici Pool: the orchestrator's for set-up calls and the
 * load generator's for the measured publishes, so both speak to the API exactly as a platform does.
 */
export interface BenchEvent {
  type: string;
  payload: unknown;
}

export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
}

export class ApiClient {
  constructor(
    private readonly pool: Pool,
    private readonly adminKey: string,
  ) {}

  async call<T>(method: 'GET' | 'POST' | 'PATCH', path: string, body: unknown, expect: number, key = this.adminKey): Promise<T> {
    const res = await this.pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode !== expect)
      throw new ApiCallError(`${method} ${path} answered ${res.statusCode} (expected ${expect}): ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** A subscriber, and a publisher key to publish for it with (the way a producing service calls). */
  async createSubscriber(name: string): Promise<{ sid: string; key: string }> {
    const sub = await this.call<{ id: string }>('POST', '/v1/subscribers', { name }, 201);
    const key = await this.call<{ apiKey: string }>('POST', '/v1/api-keys', { role: 'publisher' }, 201);
    return { sid: sub.id, key: key.apiKey };
  }

  /** The admin's per-subscriber limits (quotas, publish rate), over the server's defaults. */
  async setLimits(sid: string, limits: { maxEndpoints?: number; maxSources?: number; eventsPerSecond?: number }): Promise<void> {
    await this.call('PATCH', `/v1/subscribers/${sid}`, { limits }, 200);
  }

  async createEndpoint(sid: string, url: string): Promise<string> {
    const ep = await this.call<{ id: string }>(
      'POST',
      `/v1/subscribers/${sid}/endpoints`,
      { url, signature: { scheme: 'x-hub-signature', algorithm: 'sha256' }, verify: 'none' },
      201,
    );
    return ep.id;
  }

  /** POST /v1/event-types with the admin key. */
  async defineEventType(body: { type: string; schema: unknown; examples: unknown[] }): Promise<void> {
    await this.call('POST', '/v1/event-types', body, 201);
  }

  /** POST .../events: the event's id once it is recorded and queued. */
  async publish(sid: string, key: string, event: BenchEvent): Promise<string> {
    return (await this.call<{ id: string }>('POST', `/v1/subscribers/${sid}/events`, event, 202, key)).id;
  }

  /** POST .../events/batch (at most 1000 events). */
  async publishBatch(sid: string, key: string, events: BenchEvent[]): Promise<number> {
    return (await this.call<{ events: unknown[] }>('POST', `/v1/subscribers/${sid}/events/batch`, { events }, 202, key)).events.length;
  }
}
