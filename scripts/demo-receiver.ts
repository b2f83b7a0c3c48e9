// The receiving side of `npm run demo`: a webhook receiver on loopback that checks every signature
// the way a real receiver would, with the verifiers from @hookrelay/verify (the package receivers install).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pythonJsonDumps } from '@hookrelay/signing';
import { verifyHubSignature, verifyStandardWebhook, verifyZenduty } from '@hookrelay/verify';

/** The three receivers the demo plays, one per signature scheme. */
export type DemoScheme = 'x-hub-signature' | 'x-signature' | 'standard-webhooks';

export interface ReceivedDelivery {
  /** Which receiver got it: the path it was POSTed to. */
  receiver: string;
  scheme: DemoScheme;
  eventId: string;
  eventType: string;
  deliveryId: string;
  attempt: number;
  verified: boolean;
  /** Why verification failed, when it did. */
  problem?: string;
  body: string;
}

export interface DemoReceiver {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Every delivery, in arrival order (endpoint test calls included; their eventType is hookrelay.verification). */
  readonly received: ReceivedDelivery[];
  /** Registers a receiver at `/<name>` that verifies `scheme` signatures with `secret`. */
  expect(name: string, scheme: DemoScheme, secret: string): void;
  /** Resolves when `done` holds after a delivery, or false at the deadline. */
  waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

/** Checks one request's signature as the scheme's receivers do; returns the problem, or null. */
function checkSignature(scheme: DemoScheme, secret: string, body: Buffer, headers: IncomingHttpHeaders): string | null {
  switch (scheme) {
    case 'x-hub-signature': {
      const value = header(headers, 'x-hub-signature');
      if (!value) return 'no x-hub-signature header';
      return verifyHubSignature({ secret, body, header: value, algorithm: 'sha256' }) ? null : 'x-hub-signature does not match';
    }
    case 'x-signature': {
      const value = header(headers, 'x-signature');
      if (!value) return 'no x-signature header';
      if (!verifyZenduty({ secret, body, header: value })) return 'x-signature does not match the raw body';
      // Zenduty's own sample receiver signs json.dumps(parsed body), not the raw bytes: check that way too.
      let redumped: string;
      try {
        redumped = pythonJsonDumps(JSON.parse(body.toString('utf8')) as unknown);
      } catch {
        return 'body is not JSON';
      }
      return verifyZenduty({ secret, body: redumped, header: value }) ? null : "x-signature does not match Python's json.dumps of the body";
    }
    case 'standard-webhooks': {
      const signed = {
        'webhook-id': header(headers, 'webhook-id'),
        'webhook-timestamp': header(headers, 'webhook-timestamp'),
        'webhook-signature': header(headers, 'webhook-signature'),
      };
      if (!signed['webhook-signature']) return 'no webhook-signature header';
      const ok = verifyStandardWebhook({ secret, body, headers: signed, nowSeconds: Math.floor(Date.now() / 1000) });
      return ok ? null : 'webhook-signature does not match (or the timestamp is too old)';
    }
  }
}

export async function startDemoReceiver(): Promise<DemoReceiver> {
  const receivers = new Map<string, { scheme: DemoScheme; secret: string }>();
  const received: ReceivedDelivery[] = [];
  const listeners = new Set<() => void>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const name = (req.url ?? '/').split('?')[0]!.replace(/^\//, '');
      const receiver = receivers.get(name);
      if (req.method !== 'POST' || !receiver) return void res.writeHead(404).end();
      const body = Buffer.concat(chunks);
      const problem = checkSignature(receiver.scheme, receiver.secret, body, req.headers);
      received.push({
        receiver: name,
        scheme: receiver.scheme,
        eventId: header(req.headers, 'x-hookrelay-event-id'),
        eventType: header(req.headers, 'x-hookrelay-event-type'),
        deliveryId: header(req.headers, 'x-hookrelay-delivery-id'),
        attempt: Number(header(req.headers, 'x-hookrelay-attempt')) || 0,
        verified: problem === null,
        ...(problem ? { problem } : {}),
        body: body.toString('utf8'),
      });
      // A real receiver refuses what it cannot verify.
      res.writeHead(problem ? 401 : 200, { 'content-type': 'text/plain' }).end(problem ?? 'ok');
      for (const listener of listeners) listener();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    received,
    expect(name, scheme, secret) {
      receivers.set(name, { scheme, secret });
    },
    waitUntil(done, timeoutMs) {
      if (done()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const finish = (result: boolean) => {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(result);
        };
        const check = () => {
          if (done()) finish(true);
        };
        const timer = setTimeout(() => finish(done()), timeoutMs);
        listeners.add(check);
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
