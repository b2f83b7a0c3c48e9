import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import { hookrelayWebhook, type HookrelayRequest } from './middleware';
import { standardWebhooksSignature } from './standard-webhooks';
import { hubSignature } from './x-hub-signature';

const SECRET = 'endpoint-secret-0123456789';
const BODY = JSON.stringify({ orderId: 'ord_1', note: 'Zoë' });
const signed = (body: string = BODY) => ({
  'content-type': 'application/json',
  'x-hub-signature': hubSignature(SECRET, body, { algorithm: 'sha256', prefix: false }),
  'x-hookrelay-event-id': 'evt_9',
  'x-hookrelay-event-type': 'custom.order.paid',
  'x-hookrelay-delivery-id': 'dlv_9',
  'x-hookrelay-attempt': '1',
});

async function listen(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('hookrelayWebhook middleware', () => {
  describe('in express', () => {
    const seen: Array<{ body: unknown; event: unknown }> = [];
    let app: ReturnType<typeof express>;
    let server: { url: string; close(): Promise<void> };

    beforeAll(async () => {
      app = express();
      const record = (req: Request, res: express.Response) => {
        seen.push({ body: req.body, event: (req as HookrelayRequest).hookrelay });
        res.status(204).end();
      };
      app.post('/hooks', hookrelayWebhook({ scheme: 'x-hub-signature', secret: SECRET }), record);
      app.post('/small', hookrelayWebhook({ scheme: 'x-hub-signature', secret: SECRET, limitBytes: 64 }), record);
      app.post('/after-raw', express.raw({ type: '*/*' }), hookrelayWebhook({ scheme: 'x-hub-signature', secret: SECRET }), record);
      // A receiver that parses JSON for every route and keeps the bytes with body-parser's verify hook.
      app.post(
        '/after-json-kept',
        express.json({ verify: (req, _res, buf) => void ((req as IncomingMessage & { rawBody?: Buffer }).rawBody = buf) }),
        hookrelayWebhook({ scheme: 'x-hub-signature', secret: SECRET }),
        record,
      );
      app.post('/after-json', express.json(), hookrelayWebhook({ scheme: 'x-hub-signature', secret: SECRET }), record);
      app.use(
        (err: Error, _req: Request, res: express.Response, _next: express.NextFunction) =>
          void res.status(500).json({ error: err.message }),
      );
      server = await listen(createServer(app));
    });
    afterAll(() => server.close());
    beforeEach(() => void (seen.length = 0));

    it('passes a genuine delivery on with the parsed payload in req.body and the delivery in req.hookrelay', async () => {
      const res = await fetch(`${server.url}/hooks`, { method: 'POST', headers: signed(), body: BODY });
      expect(res.status).toBe(204);
      expect(seen).toEqual([
        {
          body: { orderId: 'ord_1', note: 'Zoë' },
          event: {
            eventId: 'evt_9',
            eventType: 'custom.order.paid',
            deliveryId: 'dlv_9',
            attempt: 1,
            payload: { orderId: 'ord_1', note: 'Zoë' },
            rawBody: Buffer.from(BODY),
          },
        },
      ]);
    });

    it('answers 401 for a wrong or missing signature, and the handler never runs', async () => {
      const wrong = await fetch(`${server.url}/hooks`, {
        method: 'POST',
        headers: { ...signed(), 'x-hub-signature': '00'.repeat(32) },
        body: BODY,
      });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toEqual({ error: { code: 'invalid_signature', message: 'x-hub-signature does not match the body' } });
      const tampered = await fetch(`${server.url}/hooks`, { method: 'POST', headers: signed(), body: BODY.replace('ord_1', 'ord_2') });
      expect(tampered.status).toBe(401);
      const missing = await fetch(`${server.url}/hooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
      expect(missing.status).toBe(401);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('missing_signature');
      expect(seen).toEqual([]);
    });

    it('answers 400 for a signed body that is not JSON', async () => {
      const res = await fetch(`${server.url}/hooks`, { method: 'POST', headers: signed('{oops'), body: '{oops' });
      expect(res.status).toBe(400);
      expect(seen).toEqual([]);
    });

    it('answers 413 for a body over the limit, declared or streamed, without reading it all', async () => {
      const big = JSON.stringify({ pad: 'x'.repeat(200) });
      const declared = await fetch(`${server.url}/small`, { method: 'POST', headers: signed(big), body: big });
      expect(declared.status).toBe(413);
      // No Content-Length: the body arrives chunked and is cut off once it passes the limit.
      const chunks = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(50)));
          controller.close();
        },
      });
      const streamed = await fetch(`${server.url}/small`, { method: 'POST', headers: signed(), body: chunks, duplex: 'half' });
      expect(streamed.status).toBe(413);
      expect(seen).toEqual([]);
    });

    it('works behind express.raw(), and behind express.json() that keeps the raw bytes', async () => {
      for (const path of ['/after-raw', '/after-json-kept']) {
        const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: signed(), body: BODY });
        expect([path, res.status]).toEqual([path, 204]);
      }
      expect(seen.map((s) => s.body)).toEqual([JSON.parse(BODY), JSON.parse(BODY)]);
    });

    it('says how to fix it when express.json() consumed the body first', async () => {
      const res = await fetch(`${server.url}/after-json`, { method: 'POST', headers: signed(), body: BODY });
      expect(res.status).toBe(500);
      expect(((await res.json()) as { error: string }).error).toMatch(/mount hookrelayWebhook\(\) before express\.json\(\)/);
    });
  });

  it('works in a plain node:http server, and with Standard Webhooks and two secrets', async () => {
    const whsec = (n: string) => `whsec_${Buffer.from(n.repeat(32)).toString('base64')}`;
    const middleware = hookrelayWebhook({ scheme: 'standard-webhooks', secret: [whsec('a'), whsec('b')] });
    const got: unknown[] = [];
    const server = await listen(
      createServer((req, res) =>
        middleware(req, res, (err) => {
          if (err) return void res.writeHead(500).end(String(err));
          got.push((req as HookrelayRequest).body);
          res.writeHead(200).end('ok');
        }),
      ),
    );
    try {
      const ts = Math.floor(Date.now() / 1000);
      const headers = {
        'webhook-id': 'evt_1',
        'webhook-timestamp': String(ts),
        'webhook-signature': standardWebhooksSignature(whsec('b'), 'evt_1', ts, BODY),
      };
      expect((await fetch(server.url, { method: 'POST', headers, body: BODY })).status).toBe(200);
      const stale = {
        ...headers,
        'webhook-timestamp': String(ts - 600),
        'webhook-signature': standardWebhooksSignature(whsec('b'), 'evt_1', ts - 600, BODY),
      };
      const refused = await fetch(server.url, { method: 'POST', headers: stale, body: BODY });
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('timestamp_out_of_range');
      expect(got).toEqual([JSON.parse(BODY)]);
    } finally {
      await server.close();
    }
  });

  it('refuses to be set up without a secret or with an unknown scheme', () => {
    expect(() => hookrelayWebhook({ scheme: 'x-hub-signature', secret: '' })).toThrow(/secret/);
    expect(() => hookrelayWebhook({ scheme: 'x-hub-signature', secret: undefined as unknown as string })).toThrow(/secret/);
    expect(() => hookrelayWebhook({ scheme: 'none' as 'x-signature', secret: SECRET })).toThrow(/unknown scheme/);
  });
});
