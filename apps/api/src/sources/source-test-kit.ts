// Test-only: small helpers the source tests share, on top of the API harness.
import type { ApiHarness } from '../api-harness';
import { useFixture, type FixtureScope } from '@hookrelay/testing';

export const GITHUB_SECRET = 'gh-webhook-secret-0123456789';
/** A source verification as GitHub signs (X-Hub-Signature-256: sha256=<hex>). */
export const GITHUB = {
  type: 'hmac',
  header: 'X-Hub-Signature-256',
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: 'sha256=',
  secret: GITHUB_SECRET,
};

export interface IngestAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON, else null. */
  json: any;
}

/** A new subscriber; returns its id and its own API key. */
export async function newSubscriber(h: ApiHarness, name = 'Acme'): Promise<{ sid: string; key: string }> {
  const res = await h.call('POST', '/v1/subscribers', { body: { name } });
  if (res.status !== 201) throw new Error(`subscriber: ${res.status} ${JSON.stringify(res.body)}`);
  return { sid: res.body.id, key: res.body.apiKey };
}

/** Creates a source and fails loudly if the API refuses it. */
export async function createSource(
  h: ApiHarness,
  sid: string,
  body: Record<string, unknown>,
): Promise<{ id: string; ingestUrl: string; body: any }> {
  const res = await h.call('POST', `/v1/subscribers/${sid}/sources`, { body: { name: 'test source', ...body } });
  if (res.status !== 201) throw new Error(`source: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, ingestUrl: res.body.ingestUrl, body: res.body };
}

/** A request to an ingest URL with no API key, as a third-party sender makes it. */
export async function ingest(
  h: ApiHarness,
  path: string,
  opts: { body?: string | Buffer; headers?: Record<string, string>; method?: string } = {},
): Promise<IngestAnswer> {
  const res = await fetch(`${h.baseUrl}${path}`, {
    method: opts.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body:
      opts.method === 'GET'
        ? undefined
        : typeof opts.body === 'string' || opts.body === undefined
          ? (opts.body ?? '')
          : new Uint8Array(opts.body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* a challenge echo is plain text */
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The source's request history, newest first. */
export async function historyOf(h: ApiHarness, sid: string, sourceId: string, query = ''): Promise<any[]> {
  const res = await h.call('GET', `/v1/subscribers/${sid}/sources/${sourceId}/requests${query}`);
  if (res.status !== 200) throw new Error(`history: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

/** The stored event's type and parsed payload. */
export async function storedEvent(h: ApiHarness, eventId: string): Promise<{ type: string; payload: unknown }> {
  const event = await h.store.events.get(eventId);
  if (!event) throw new Error(`no event ${eventId}`);
  return { type: event.type, payload: JSON.parse(event.payload) as unknown };
}

/** Ids of the events stored for one subscriber (the harness is shared, so others' are skipped). */
export async function eventsOf(h: ApiHarness, sid: string): Promise<string[]> {
  const keys = (await h.redis.keys(`${h.prefix}:ev:*`)).filter((k) => !k.endsWith(':dl'));
  const events = await Promise.all(keys.map((k) => h.store.events.get(k.slice(`${h.prefix}:ev:`.length))));
  return events.filter((e) => e?.subscriberId === sid).map((e) => e!.id);
}

/**
 * A fresh subscriber for each test (or once for the suite, with scope 'all'), created through `h`:
 * `subscriber.sid`, `subscriber.key`.
 */
export function useSubscriber(h: ApiHarness, scope: FixtureScope = 'each'): { sid: string; key: string } {
  return useFixture(
    () => newSubscriber(h),
    () => undefined,
    scope,
  );
}
