import { connect } from 'node:net';
import { useApiHarness } from './api-harness';

/** Writes `request` on a raw connection and resolves with the status line of the answer. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('end', () => resolve(answer.split('\r\n', 1)[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('request lines', () => {
  const h = useApiHarness({ worker: false });

  async function lineOf(requestId: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 100; i++) {
      const line = h.logLines.find((l) => (l.req as { id?: string } | undefined)?.id === requestId);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no request line for ${requestId} within 2 s`);
  }

  it('logs at most 256 B of a query, says how much was cut, and logs a 401 without a key at info', async () => {
    const res = await fetch(`${h.baseUrl}/v1/whoami?${'q'.repeat(16_000)}`, { headers: { 'x-request-id': 'long-query-1' } });
    expect(res.status).toBe(401);
    const line = await lineOf('long-query-1');
    expect(line).toMatchObject({ level: 'info', msg: 'request.completed', res: { statusCode: 401 } });
    expect((line.req as { url: string }).url).toBe(`/v1/whoami?${'q'.repeat(256)}...[15744 bytes cut]`);
    expect(JSON.stringify(line).length).toBeLessThan(1024);
  });

  it('logs at most 512 B of a path, and a 404 before any key at info', async () => {
    const res = await fetch(`${h.baseUrl}/${'p'.repeat(15_000)}`, { headers: { 'x-request-id': 'long-path-1' } });
    expect(res.status).toBe(404);
    const line = await lineOf('long-path-1');
    expect(line).toMatchObject({ level: 'info', res: { statusCode: 404 } });
    expect((line.req as { url: string }).url).toBe(`/${'p'.repeat(511)}...[14489 bytes cut]`);
  });

  it('keeps a 4xx of a caller with a key at warn, and a 2xx at info', async () => {
    const missing = await h.call('GET', '/v1/subscribers/sub_nope', { headers: { 'x-request-id': 'authed-404' } });
    expect(missing.status).toBe(404);
    expect(await lineOf('authed-404')).toMatchObject({ level: 'warn', msg: 'request.completed', res: { statusCode: 404 } });
    await h.call('GET', '/v1/event-types', { headers: { 'x-request-id': 'authed-200' } });
    expect(await lineOf('authed-200')).toMatchObject({ level: 'info', res: { statusCode: 200 } });
  });

  describe("an ingest URL's secrets", () => {
    const VERIFY_TOKEN = 'VERIFY-TOKEN-SECRET-0123456789';
    let ingestPath: string;
    let token: string;

    beforeAll(async () => {
      const sub = await h.call('POST', '/v1/subscribers', { body: { name: 'meta' } });
      const src = await h.call('POST', `/v1/subscribers/${sub.body.id}/sources`, {
        body: { name: 'meta', verification: { type: 'facebook', appSecret: 'APP-SECRET-abcdef0123456789', verifyToken: VERIFY_TOKEN } },
      });
      expect(src.status).toBe(201);
      ingestPath = new URL(src.body.ingestUrl as string, h.baseUrl).pathname;
      token = ingestPath.split('/').pop()!;
    });

    it("logs neither the token nor Meta's hub.verify_token of a handshake, right or wrong", async () => {
      const query = (verifyToken: string) => `?hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=12345`;
      const right = await fetch(`${h.baseUrl}${ingestPath}${query(VERIFY_TOKEN)}`, { headers: { 'x-request-id': 'meta-right' } });
      expect(right.status).toBe(200);
      const wrong = await fetch(`${h.baseUrl}${ingestPath}${query('guess-1')}`, { headers: { 'x-request-id': 'meta-wrong' } });
      expect(wrong.status).toBe(403);
      expect(await lineOf('meta-right')).toMatchObject({ level: 'info', req: { url: '/in/[redacted]' } });
      // Anyone can make it: not a warning.
      expect(await lineOf('meta-wrong')).toMatchObject({ level: 'info', req: { url: '/in/[redacted]' }, res: { statusCode: 403 } });
      const all = JSON.stringify(h.logLines);
      for (const secret of [VERIFY_TOKEN, 'guess-1', 'verify_token=', token]) expect(all).not.toContain(secret);
    });

    it('logs no token of an absolute-form request target, which express routes to the source', async () => {
      const { port, host } = new URL(h.baseUrl);
      const status = await rawRequest(
        Number(port),
        `POST http://${host}${ingestPath}?x=1 HTTP/1.1\r\nHost: ${host}\r\nX-Request-Id: absolute-form-1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      );
      // The source's verification refused it: it was routed to the source, not a 404.
      expect(status).toBe('HTTP/1.1 401 Unauthorized');
      expect(await lineOf('absolute-form-1')).toMatchObject({ level: 'info', req: { method: 'POST', url: '/in/[redacted]' } });
      expect(JSON.stringify(h.logLines)).not.toContain(token);
    });
  });
});
