import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { createLogger, createMetrics } from '@hookrelay/observability';
import { createApp } from '../apps/api/src/app';
import { buildApiDeps } from '../apps/api/src/build-deps';

/** Hookrelay's API in this process, wired by buildApiDeps as apps/api/src/main.ts wires it, plus an HTTP client for it. */
export interface BenchApi {
  /** Deliveries waiting in the scheduler's lanes. */
  queued(): Promise<number>;
  client: ApiClient;
  close(): Promise<void>;
}

export async function startBenchApi(redisUrl: string, keyPrefix: string, clientConnections: number): Promise<BenchApi> {
  const logger = createLogger({ level: 'info', name: 'api', destination: { write: () => undefined } });
  const adminKey = `hr_admin_bench_${randomBytes(16).toString('hex')}`;
  const api = await buildApiDeps({
    redisUrl,
    keyPrefix,
    logger,
    metrics: createMetrics(),
    adminKey,
    policy: { allowHttp: true, allowPrivateTargets: true, allowSha1: false },
  });
  const app = createApp(api.deps);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pool = new Pool(origin, { connections: clientConnections });
  return {
    queued: () => api.deps.store.lanes.readyCount(),
    client: new ApiClient(pool, adminKey),
    close: async () => {
      await pool.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close();
    },
  };
}

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
    if (res.statusCode !== expect) throw new ApiCallError(`${method} ${path} answered ${res.statusCode} (expected ${expect}): ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** A subscriber, and a publisher key to publish for it with (the way a producing service calls). */
  async createSubscriber(name: string): Promise<{ sid: string; publisherKey: string }> {
    const sub = await this.call<{ id: string }>('POST', '/v1/subscribers', { name }, 201);
    const key = await this.call<{ apiKey: string }>('POST', '/v1/api-keys', { role: 'publisher' }, 201);
    return { sid: sub.id, publisherKey: key.apiKey };
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
