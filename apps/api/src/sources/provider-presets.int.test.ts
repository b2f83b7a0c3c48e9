import { useApiHarness } from '../api-harness';
import { PROVIDER_CASES, PUBLIC_URL, type ProviderCase, type SignedRequest } from './provider-cases';
import { createSource, eventsOf, historyOf, ingest, newSubscriber, storedEvent } from './source-test-kit';

const UNAUTHORIZED = { error: { code: 'unauthorized', message: 'unauthorized' } };

/** The payload a case's body publishes: its parsed JSON or form fields (a SendGrid batch: its one event). */
function publishedPayload(c: ProviderCase): unknown {
  if (c.contentType === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(c.body));
  const parsed = JSON.parse(c.body) as unknown;
  return c.type === 'sendgrid' ? (parsed as unknown[])[0] : parsed;
}

/** The same body with one character changed (every case's body has an `e`). */
const tamper = (body: string) => body.replace('e', 'E');

function without(headers: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== name.toLowerCase()));
}

describe('provider presets: requests signed as each vendor signs (its npm library where it has one), sent to a running Hookrelay', () => {
  const h = useApiHarness({ worker: false, publicUrl: PUBLIC_URL });

  describe.each(PROVIDER_CASES.map((c) => [c.type, c] as const))('%s', (_type, c) => {
    let sid: string;
    let secret: unknown;
    let source: { id: string; ingestUrl: string; body: any };

    beforeEach(async () => {
      sid = (await newSubscriber(h)).sid;
      secret = c.newSecret();
      // No eventType: the preset's default names the event.
      source = await createSource(h, sid, { verification: c.verification(secret) });
    });

    const sign = (key: unknown, body: string, ageSeconds = 0) => c.sign(key, body, { url: PUBLIC_URL + source.ingestUrl, ageSeconds });
    const send = (body: string, signed: SignedRequest) =>
      ingest(h, source.ingestUrl + (signed.query ?? ''), { body, headers: { 'content-type': c.contentType, ...signed.headers } });
    const statusOf = async () => (await h.call('GET', `/v1/subscribers/${sid}/sources/${source.id}`)).body.status;

    /** A refused request: a bare 401, its reason in the history, nothing published, still unverified. */
    async function expectRefused(answer: { status: number; json: unknown; text: string }, reason: string) {
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual(UNAUTHORIZED);
      expect(answer.text).not.toMatch(/signature|timestamp|header|secret/i);
      expect((await historyOf(h, sid, source.id))[0]).toMatchObject({ status: 401, outcome: 'rejected', reason });
      expect(await eventsOf(h, sid)).toEqual([]);
      expect(await statusOf()).toBe('unverified');
    }

    it(`publishes a valid request once, as ${c.publishedType}, and marks the source verified`, async () => {
      expect(source.body).toMatchObject({
        status: 'unverified',
        eventType: expect.any(String),
        verification: { type: c.type, configured: true },
      });
      const res = await send(c.body, await sign(secret, c.body));
      expect(res.status).toBe(202);
      expect(res.json).toEqual({ status: 'published', eventId: expect.stringMatching(/^evt_/) });
      expect(await storedEvent(h, res.json.eventId)).toEqual({ type: c.publishedType, payload: publishedPayload(c) });
      expect(await eventsOf(h, sid)).toEqual([res.json.eventId]);
      expect(await statusOf()).toBe('verified');
      expect(await historyOf(h, sid, source.id)).toEqual([
        expect.objectContaining({ status: 202, outcome: 'published', eventId: res.json.eventId }),
      ]);
    });

    it('answers a tampered body 401, with the mismatch in the history', async () => {
      await expectRefused(await send(tamper(c.body), await sign(secret, c.body)), c.mismatch);
    });

    it('answers a request signed with another secret 401, with the mismatch in the history', async () => {
      await expectRefused(await send(c.body, await sign(c.newSecret(), c.body)), c.mismatch);
    });

    it(`answers a request without ${c.signatureHeader} 401 missing_header`, async () => {
      const signed = await sign(secret, c.body);
      await expectRefused(
        await send(c.body, { ...signed, headers: without(signed.headers, c.signatureHeader) }),
        `missing_header: ${c.signatureHeader}`,
      );
    });

    if (c.timestampHeader) {
      const header = c.timestampHeader;
      it(`answers a request without ${header} 401 missing_header`, async () => {
        const signed = await sign(secret, c.body);
        await expectRefused(await send(c.body, { ...signed, headers: without(signed.headers, header) }), `missing_header: ${header}`);
      });
    }

    if (c.stale) {
      const stale = c.stale;
      it('answers a timestamp older than the tolerance 401, and accepts one inside it', async () => {
        await expectRefused(await send(c.body, await sign(secret, c.body, 301)), stale);
        expect((await send(c.body, await sign(secret, c.body, 250))).status).toBe(202);
      });
    }
  });
});
