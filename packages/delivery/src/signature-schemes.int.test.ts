import { createHmac } from 'node:crypto';
import { newSigningSecret } from '@hookrelay/signing';
import { buildEndpoint, buildEvent, startZendutyPythonReceiver, useTestReceiver } from '@hookrelay/testing';
import { Webhook } from 'standardwebhooks';
import { useEngineHarness } from './engine-harness';
import { BYTES_FROM_CHARS } from './scheme-bodies';

// Each scheme is checked by something other than our own verifier: the standardwebhooks package,
// Zenduty's Python snippet run by python3, and a plain HMAC computed here.
describe('signed deliveries, verified independently', () => {
  const h = useEngineHarness({}, 'each');
  const receiver = useTestReceiver(undefined, 'each');

  it('x-hub-signature sha512 with prefix verifies as sha512=<hex> over the exact body', async () => {
    const endpoint = await h.saveEndpoint(
      buildEndpoint({ url: receiver.url, signature: { scheme: 'x-hub-signature', algorithm: 'sha512', prefix: true } }),
    );
    const event = buildEvent();
    await h.waitForState(await h.enqueue(event, endpoint), ['delivered']);
    const [req] = receiver.requests;
    const expected = `sha512=${createHmac('sha512', endpoint.secret).update(req!.body).digest('hex')}`;
    expect(req!.headers['x-hub-signature']).toBe(expected);
    expect(req!.body.toString()).toBe(event.payload);
  });

  it('standard-webhooks verifies with the standardwebhooks package, with a stable webhook-id across retries', async () => {
    receiver.enqueue({ status: 500 }, { status: 200 });
    const secret = newSigningSecret('standard-webhooks');
    const endpoint = await h.saveEndpoint(
      buildEndpoint({
        url: receiver.url,
        secret,
        signature: { scheme: 'standard-webhooks' },
        retry: { maxRetries: 1, intervalMs: 20, backoff: 'fixed' },
      }),
    );
    const event = buildEvent();
    await h.waitForState(await h.enqueue(event, endpoint), ['delivered']);
    expect(receiver.requests).toHaveLength(2);
    const wh = new Webhook(secret);
    for (const req of receiver.requests) {
      const headers = {
        'webhook-id': String(req.headers['webhook-id']),
        'webhook-timestamp': String(req.headers['webhook-timestamp']),
        'webhook-signature': String(req.headers['webhook-signature']),
      };
      expect(wh.verify(req.body.toString(), headers)).toEqual(JSON.parse(event.payload));
      expect(headers['webhook-id']).toBe(event.id);
    }
    expect(() =>
      new Webhook(newSigningSecret('standard-webhooks')).verify(receiver.requests[0]!.body.toString(), {
        'webhook-id': String(receiver.requests[0]!.headers['webhook-id']),
        'webhook-timestamp': String(receiver.requests[0]!.headers['webhook-timestamp']),
        'webhook-signature': String(receiver.requests[0]!.headers['webhook-signature']),
      }),
    ).toThrow();
  });

  it('standard-webhooks signs with both secrets during a rotation grace period', async () => {
    const oldSecret = newSigningSecret('standard-webhooks');
    const newSecret = newSigningSecret('standard-webhooks');
    const endpoint = await h.saveEndpoint(
      buildEndpoint({
        url: receiver.url,
        secret: newSecret,
        previousSecrets: [{ secret: oldSecret, expiresAt: Date.now() + 60_000 }],
        signature: { scheme: 'standard-webhooks' },
      }),
    );
    await h.waitForState(await h.enqueue(buildEvent(), endpoint), ['delivered']);
    const [req] = receiver.requests;
    const headers = {
      'webhook-id': String(req!.headers['webhook-id']),
      'webhook-timestamp': String(req!.headers['webhook-timestamp']),
      'webhook-signature': String(req!.headers['webhook-signature']),
    };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) expect(() => new Webhook(secret).verify(req!.body.toString(), headers)).not.toThrow();
  });

  it('x-signature verifies with Zenduty’s own Python snippet, even with unicode and floats', async () => {
    const key = 'zenduty-signing-key-0123456789';
    const python = await startZendutyPythonReceiver(key);
    try {
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: python.url, secret: key, signature: { scheme: 'x-signature' } }));
      const payload = {
        payload: {
          event_type: 'triggered',
          incident: {
            incident_number: 60,
            title: 'Disk full on café-01 ☕',
            summary: 'load 1e-07 → 12.5',
            ratio: 0.00001,
            merged_with: null,
          },
        },
      };
      const event = buildEvent({ payload: JSON.stringify(payload) });
      const id = await h.enqueue(event, endpoint);
      await python.waitFor(1);
      expect(python.results).toEqual([{ verified: true, event_id: event.id }]);
      expect((await h.waitForState(id, ['delivered', 'failed'])).state).toBe('delivered');
    } finally {
      await python.stop();
    }
  });

  it('signs a large payload (sent as bytes encoded once per event) so that every scheme verifies, to several endpoints, during a rotation', async () => {
    // 200 KB with characters of 1 to 4 bytes, past BYTES_FROM_CHARS: the worker sends it as bytes.
    const text = 'plain ascii, café ☕, 😀 '.repeat(8000);
    const event = buildEvent({ payload: JSON.stringify({ text }) });
    expect(event.payload.length).toBeGreaterThan(BYTES_FROM_CHARS);
    const hubSecret = 'hub-secret-0123456789abcdef';
    const [oldSecret, newSecret] = [newSigningSecret('standard-webhooks'), newSigningSecret('standard-webhooks')];
    const zendutyKey = 'zenduty-signing-key-0123456789';
    const python = await startZendutyPythonReceiver(zendutyKey);
    try {
      const endpoints = [
        buildEndpoint({
          url: `${receiver.url}/hub1`,
          secret: hubSecret,
          signature: { scheme: 'x-hub-signature', algorithm: 'sha256', prefix: true },
        }),
        buildEndpoint({
          url: `${receiver.url}/hub2`,
          secret: hubSecret,
          signature: { scheme: 'x-hub-signature', algorithm: 'sha256', prefix: true },
        }),
        buildEndpoint({
          url: `${receiver.url}/std`,
          secret: newSecret,
          previousSecrets: [{ secret: oldSecret, expiresAt: Date.now() + 60_000 }],
          signature: { scheme: 'standard-webhooks' },
        }),
        buildEndpoint({ url: python.url, secret: zendutyKey, signature: { scheme: 'x-signature' } }),
      ];
      for (const e of endpoints) await h.saveEndpoint(e);
      const [created = []] = await h.publisher.enqueue([{ event, endpoints }]);
      for (const d of created) await h.waitForState(d.id, ['delivered']);
      await python.waitFor(1);
      expect(python.results).toEqual([{ verified: true, event_id: event.id }]);

      expect(receiver.requests.map((r) => r.url).sort()).toEqual(['/hub1', '/hub2', '/std']);
      for (const req of receiver.requests) {
        expect(req.body.toString('utf8')).toBe(event.payload);
        if (req.url === '/std') {
          const headers = {
            'webhook-id': String(req.headers['webhook-id']),
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature']),
          };
          for (const secret of [oldSecret, newSecret]) expect(new Webhook(secret).verify(req.body.toString(), headers)).toEqual({ text });
        } else {
          expect(req.headers['x-hub-signature']).toBe(`sha256=${createHmac('sha256', hubSecret).update(req.body).digest('hex')}`);
        }
      }
    } finally {
      await python.stop();
    }
  });
});
