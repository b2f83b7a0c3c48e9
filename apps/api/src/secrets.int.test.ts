import { createHmac } from 'node:crypto';
import { standardWebhooksSignature, verifyStandardWebhook } from '@hookrelay/signing';
import { useTestReceiver } from '@hookrelay/testing';
import { useAcmeEndpoints, useApiHarness } from './api-harness';

const DAY_MS = 24 * 3600 * 1000;
const EVENT = { type: 'custom.order.paid', payload: { orderId: 'ord_84213', amount: 4999 } };

describe('endpoint secrets', () => {
  const receiver = useTestReceiver(undefined, 'each');
  const h = useApiHarness({}, 'each');
  const acme = useAcmeEndpoints(h);

  async function create(body: Record<string, unknown> = {}) {
    const res = await h.call('POST', acme.base, { body: { url: `${receiver.url}/hook`, ...body } });
    expect(res.status).toBe(201);
    return res.body;
  }

  it('shows the secret on GET /secret with no retiring secrets', async () => {
    const created = await create({ secret: 'my-own-secret-0123456789' });
    const res = await h.call('GET', `${acme.base}/${created.id}/secret`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ secret: 'my-own-secret-0123456789', previousSecrets: [] });
  });

  describe('when the secret is rotated', () => {
    it('returns a new secret and keeps the old one signing for about 24 hours', async () => {
      const created = await create();
      const before = Date.now();
      const res = await h.call('POST', `${acme.base}/${created.id}/secret/rotate`);
      expect(res.status).toBe(200);
      expect(res.body.secret).toEqual(expect.any(String));
      expect(res.body.secret).not.toBe(created.secret);
      expect(res.body.previousSecrets).toEqual([{ secret: created.secret, expiresAt: expect.any(Number) }]);
      const expiresAt = res.body.previousSecrets[0].expiresAt as number;
      expect(expiresAt).toBeGreaterThanOrEqual(before + DAY_MS);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + DAY_MS);
      expect((await h.call('GET', `${acme.base}/${created.id}/secret`)).body).toEqual(res.body);
      expect((await h.call('GET', `${acme.base}/${created.id}`)).body.secretRotation).toEqual({ retiringUntil: expiresAt });
    });

    it('signs x-hub-signature deliveries with the new secret only', async () => {
      const created = await create();
      await h.call('POST', `/v1/subscribers/${acme.sid}/events`, { body: EVENT });
      await receiver.waitForRequests(1);
      const rotated = (await h.call('POST', `${acme.base}/${created.id}/secret/rotate`)).body;
      await h.call('POST', `/v1/subscribers/${acme.sid}/events`, { body: EVENT });
      const [first, second] = await receiver.waitForRequests(2);
      const body = JSON.stringify(EVENT.payload);
      expect(second?.body.toString()).toBe(body);
      expect(first?.headers['x-hub-signature']).toBe(createHmac('sha256', created.secret).update(body).digest('hex'));
      expect(second?.headers['x-hub-signature']).toBe(createHmac('sha256', rotated.secret).update(body).digest('hex'));
    });

    it('signs standard-webhooks deliveries with both the new and the old secret', async () => {
      const created = await create({ signature: { scheme: 'standard-webhooks' } });
      const rotated = (await h.call('POST', `${acme.base}/${created.id}/secret/rotate`)).body;
      const published = (await h.call('POST', `/v1/subscribers/${acme.sid}/events`, { body: EVENT })).body;
      const [req] = await receiver.waitForRequests(1);
      const headers = {
        'webhook-id': String(req?.headers['webhook-id']),
        'webhook-timestamp': String(req?.headers['webhook-timestamp']),
        'webhook-signature': String(req?.headers['webhook-signature']),
      };
      expect(headers['webhook-id']).toBe(published.id);
      const timestamp = Number(headers['webhook-timestamp']);
      const body = JSON.stringify(EVENT.payload);
      expect(headers['webhook-signature'].split(' ')).toEqual([
        standardWebhooksSignature(rotated.secret, published.id, timestamp, body),
        standardWebhooksSignature(created.secret, published.id, timestamp, body),
      ]);
      const nowSeconds = Math.floor(Date.now() / 1000);
      for (const secret of [rotated.secret, created.secret])
        expect(verifyStandardWebhook({ secret, body: req!.body, headers, nowSeconds })).toBe(true);
      expect(
        verifyStandardWebhook({ secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`, body: req!.body, headers, nowSeconds }),
      ).toBe(false);
    });

    it('keeps the 3 newest retiring secrets: a rotation past them drops the oldest, and a delivery carries 4 signatures at most', async () => {
      const created = await create({ signature: { scheme: 'standard-webhooks' } });
      const secrets: string[] = [created.secret];
      let last: { secret: string; previousSecrets: Array<{ secret: string }> } | undefined;
      for (let i = 0; i < 5; i++) {
        last = (await h.call('POST', `${acme.base}/${created.id}/secret/rotate`)).body;
        secrets.push(last!.secret);
      }
      // Rotated five times: the first two secrets no longer sign, the three before the current one do.
      expect(last!.previousSecrets.map((s) => s.secret)).toEqual(secrets.slice(2, 5));
      expect((await h.call('GET', `${acme.base}/${created.id}/secret`)).body).toEqual(last);
      const published = (await h.call('POST', `/v1/subscribers/${acme.sid}/events`, { body: EVENT })).body;
      const [req] = await receiver.waitForRequests(1);
      const timestamp = Number(req?.headers['webhook-timestamp']);
      const body = JSON.stringify(EVENT.payload);
      expect(String(req?.headers['webhook-signature']).split(' ')).toEqual(
        [secrets[5]!, ...secrets.slice(2, 5)].map((secret) => standardWebhooksSignature(secret, published.id, timestamp, body)),
      );
    });

    it('accepts a chosen secret and a zero grace period that retires the old one at once', async () => {
      const created = await create();
      const res = await h.call('POST', `${acme.base}/${created.id}/secret/rotate`, {
        body: { secret: 'chosen-secret-0123456789', graceMs: 0 },
      });
      expect(res.body).toEqual({ secret: 'chosen-secret-0123456789', previousSecrets: [] });
      const short = await h.call('POST', `${acme.base}/${created.id}/secret/rotate`, { body: { secret: 'short' } });
      expect(short.status).toBe(400);
      expect(short.body.error.details).toEqual([expect.objectContaining({ path: 'secret' })]);
    });
  });

  describe('when PATCH changes the signature scheme', () => {
    it('issues a whsec_ secret for standard-webhooks, and deliveries verify with it', async () => {
      const created = await create();
      const res = await h.call('PATCH', `${acme.base}/${created.id}`, { body: { signature: { scheme: 'standard-webhooks' } } });
      expect(res.status).toBe(200);
      // The old secret cannot serve the new scheme: the new one is shown once, here, as on create.
      const { secret, previousSecrets } = (await h.call('GET', `${acme.base}/${created.id}/secret`)).body;
      expect(secret).toMatch(/^whsec_/);
      expect(res.body.secret).toBe(secret);
      expect(previousSecrets).toEqual([]);
      await h.call('POST', `/v1/subscribers/${acme.sid}/events`, { body: EVENT });
      const [req] = await receiver.waitForRequests(1);
      const headers = {
        'webhook-id': String(req?.headers['webhook-id']),
        'webhook-timestamp': String(req?.headers['webhook-timestamp']),
        'webhook-signature': String(req?.headers['webhook-signature']),
      };
      expect(verifyStandardWebhook({ secret, body: req!.body, headers, nowSeconds: Math.floor(Date.now() / 1000) })).toBe(true);
      expect(req?.headers['x-hub-signature']).toBeUndefined();
    });

    it('keeps a secret that suits the new scheme', async () => {
      const created = await create({ signature: { scheme: 'standard-webhooks' } });
      await h.call('PATCH', `${acme.base}/${created.id}`, {
        body: { signature: { scheme: 'x-hub-signature', algorithm: 'sha512', prefix: true } },
      });
      expect((await h.call('GET', `${acme.base}/${created.id}/secret`)).body.secret).toBe(created.secret);
      await h.call('POST', `/v1/subscribers/${acme.sid}/events`, { body: EVENT });
      const [req] = await receiver.waitForRequests(1);
      expect(req?.headers['x-hub-signature']).toBe(
        `sha512=${createHmac('sha512', created.secret).update(JSON.stringify(EVENT.payload)).digest('hex')}`,
      );
    });
  });
});
