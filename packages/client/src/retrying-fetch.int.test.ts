import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { retryingFetch } from './retrying-fetch';

type Answer = { status: number; headers?: Record<string, string>; body?: string };

/** A real HTTP server on loopback that answers from a script and records what it was sent. */
async function scriptedServer(answers: Answer[]) {
  const received: Array<{ method: string; body: string }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', body });
      const answer = answers[Math.min(received.length - 1, answers.length - 1)]!;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/things`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('retryingFetch', () => {
  const slept: number[] = [];
  const env = {
    fetch: (input: Request, init?: RequestInit) => fetch(input, init),
    timeoutMs: 5000,
    sleep: async (ms: number) => void slept.push(ms),
    random: () => 0.5,
  };
  const post = (url: string) =>
    new Request(url, { method: 'POST', body: '{"type":"custom.x","payload":{"n":1}}', headers: { 'content-type': 'application/json' } });

  beforeEach(() => void (slept.length = 0));

  it('sends the same request again after the Retry-After a 429 names, then returns the success', async () => {
    const server = await scriptedServer([
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 202, body: '{"id":"evt_1"}' },
    ]);
    try {
      const res = await retryingFetch({}, env)(post(server.url));
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ id: 'evt_1' });
      expect(slept).toEqual([2000, 1000]);
      expect(server.received).toEqual(Array(3).fill({ method: 'POST', body: '{"type":"custom.x","payload":{"n":1}}' }));
    } finally {
      await server.close();
    }
  });

  it('reads Retry-After as an HTTP date too', async () => {
    const server = await scriptedServer([
      { status: 503, headers: { 'retry-after': new Date(Date.UTC(2030, 0, 1, 0, 0, 5)).toUTCString() } },
      { status: 200 },
    ]);
    try {
      const res = await retryingFetch({}, { ...env, now: () => Date.UTC(2030, 0, 1, 0, 0, 0) })(post(server.url));
      expect(res.status).toBe(200);
      expect(slept).toEqual([5000]);
    } finally {
      await server.close();
    }
  });

  it('backs off exponentially when a 503 names no wait, and returns the last answer once retries are spent', async () => {
    const server = await scriptedServer([{ status: 503, body: '{"error":{"code":"unavailable","message":"storage is unavailable"}}' }]);
    try {
      const res = await retryingFetch({ maxRetries: 3, baseDelayMs: 100 }, env)(post(server.url));
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
      expect(slept).toEqual([100, 200, 400]);
      expect(server.received).toHaveLength(4);
    } finally {
      await server.close();
    }
  });

  it('does not wait out a Retry-After longer than maxDelayMs: it returns at once', async () => {
    const server = await scriptedServer([{ status: 429, headers: { 'retry-after': '3600' } }, { status: 200 }]);
    try {
      const res = await retryingFetch({ maxDelayMs: 30_000 }, env)(post(server.url));
      expect(res.status).toBe(429);
      expect(slept).toEqual([]);
      expect(server.received).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it.each([400, 404, 409, 500, 502])('never retries a %i', async (status) => {
    const server = await scriptedServer([{ status }, { status: 200 }]);
    try {
      expect((await retryingFetch({}, env)(post(server.url))).status).toBe(status);
      expect(server.received).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('does not retry with retry: false', async () => {
    const server = await scriptedServer([{ status: 429, headers: { 'retry-after': '1' } }, { status: 200 }]);
    try {
      expect((await retryingFetch(false, env)(post(server.url))).status).toBe(429);
      expect(server.received).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('ends an attempt that gets no answer within timeoutMs as a timeout, and a refused connection as a network error', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      await expect(retryingFetch({}, { ...env, timeoutMs: 100 })(post(`http://127.0.0.1:${port}/v1/x`))).rejects.toMatchObject({
        name: 'HookrelayError',
        status: 0,
        code: 'timeout',
      });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    await expect(retryingFetch({}, env)(post(`http://127.0.0.1:${port}/v1/x`))).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });
});
