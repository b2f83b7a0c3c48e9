import { useApiHarness } from '../api-harness';
import { createSource, historyOf, ingest, newSubscriber } from './source-test-kit';

const SECRETS = {
  header: { type: 'header', headers: { 'X-Webhook-Token': 'header-secret-value-1' } },
  hmac: { type: 'hmac', header: 'X-Hub-Signature-256', prefix: 'sha256=', secret: 'hmac-secret-value-2' },
  stripe: { type: 'stripe', secret: 'whsec_stripe-secret-value-3' },
  'standard-webhooks': { type: 'standard-webhooks', secret: `whsec_${Buffer.from('standard-webhooks-secret-value-4').toString('base64')}` },
  slack: { type: 'slack', signingSecret: 'slack-secret-value-5' },
  basic: { type: 'basic', username: 'jira', password: 'basic-secret-value-6' },
} as const;
const secretValues = [
  'header-secret-value-1',
  'hmac-secret-value-2',
  'stripe-secret-value-3',
  SECRETS['standard-webhooks'].secret,
  'slack-secret-value-5',
  'basic-secret-value-6',
];

describe('source routes', () => {
  const h = useApiHarness({ worker: false });
  let sid: string;
  let base: string;

  beforeEach(async () => {
    sid = (await newSubscriber(h)).sid;
    base = `/v1/subscribers/${sid}/sources`;
  });

  it('creates an unverified source with an unguessable ingest URL and the defaults filled in', async () => {
    const res = await h.call('POST', base, { body: { name: 'GitHub', eventType: 'github.{$.action}', verification: SECRETS.hmac } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^src_/),
      subscriberId: sid,
      name: 'GitHub',
      status: 'unverified',
      verifiedAt: null,
      ingestUrl: expect.stringMatching(/^\/in\/[A-Za-z0-9_-]{43}$/),
      eventType: 'github.{$.action}',
      verification: {
        type: 'hmac',
        header: 'x-hub-signature-256',
        algorithm: 'sha256',
        encoding: 'hex',
        prefix: 'sha256=',
        configured: true,
      },
      matches: {},
      format: 'json',
      rateLimit: { perSecond: 50, perMinute: 1200 },
      dedupe: null,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    const other = await createSource(h, sid, { eventType: 'source.x', verification: SECRETS.hmac });
    expect(other.ingestUrl).not.toBe(res.body.ingestUrl);
  });

  it('never shows a secret: not on create, get, list or patch', async () => {
    const ids = [];
    for (const verification of Object.values(SECRETS))
      ids.push((await createSource(h, sid, { eventType: 'source.any', verification })).body);
    const answers = [JSON.stringify(ids), JSON.stringify((await h.call('GET', base)).body)];
    for (const { id } of ids) {
      answers.push(JSON.stringify((await h.call('GET', `${base}/${id}`)).body));
      answers.push(JSON.stringify((await h.call('PATCH', `${base}/${id}`, { body: { name: 'renamed' } })).body));
    }
    for (const answer of answers) for (const secret of secretValues) expect(answer).not.toContain(secret);
    expect((await h.call('GET', base)).body.data.map((s: any) => s.verification)).toEqual([
      { type: 'header', headerNames: ['x-webhook-token'], configured: true },
      { type: 'hmac', header: 'x-hub-signature-256', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=', configured: true },
      { type: 'stripe', toleranceSeconds: 300, configured: true },
      { type: 'standard-webhooks', toleranceSeconds: 300, configured: true },
      { type: 'slack', configured: true },
      { type: 'basic', username: 'jira', configured: true },
    ]);
  });

  it('refuses an unauthenticated source while the operator switch is off, naming the switch', async () => {
    const res = await h.call('POST', base, { body: { name: 'open', eventType: 'source.open', verification: { type: 'none' } } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/HOOKRELAY_ALLOW_UNAUTHENTICATED_SOURCES=true/);
    expect(res.body.error.details).toEqual([{ path: 'verification.type', message: expect.any(String) }]);
  });

  it.each([
    ['a fixed type outside source. and custom.', { eventType: 'github.push' }, 'eventType'],
    ['a template under a catalog namespace', { eventType: 'incident.{$.x}' }, 'eventType'],
    ['a match path that is not JSONPath', { matches: { 'event.type': 'x' } }, 'matches.event.type'],
    ['an unknown verification type', { verification: { type: 'oauth' } }, 'verification.type'],
    ['an unknown format', { format: 'xml' }, 'format'],
  ])('answers 400 for %s', async (_name, change, path) => {
    const res = await h.call('POST', base, { body: { name: 'x', eventType: 'source.x', verification: SECRETS.slack, ...change } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('patches fields, merges rate limits, and a new verification makes the source unverified again', async () => {
    const source = await createSource(h, sid, { eventType: 'source.x', verification: SECRETS.header });
    expect((await ingest(h, source.ingestUrl, { body: '{}', headers: { 'x-webhook-token': 'header-secret-value-1' } })).status).toBe(202);
    expect((await h.call('GET', `${base}/${source.id}`)).body).toMatchObject({ status: 'verified', verifiedAt: expect.any(Number) });

    const renamed = await h.call('PATCH', `${base}/${source.id}`, {
      body: { name: 'Jira', matches: { '$.a': 1 }, rateLimit: { perSecond: 5 } },
    });
    expect(renamed.body).toMatchObject({
      name: 'Jira',
      matches: { '$.a': 1 },
      rateLimit: { perSecond: 5, perMinute: 1200 },
      status: 'verified',
      ingestUrl: source.ingestUrl,
    });

    const rekeyed = await h.call('PATCH', `${base}/${source.id}`, {
      body: { verification: { type: 'header', headers: { 'x-webhook-token': 'new-value' } } },
    });
    expect(rekeyed.body).toMatchObject({ status: 'unverified', verifiedAt: null });
    expect((await ingest(h, source.ingestUrl, { body: '{}', headers: { 'x-webhook-token': 'header-secret-value-1' } })).status).toBe(401);
  });

  it('deletes a source: its ingest URL and history go with it', async () => {
    const source = await createSource(h, sid, { eventType: 'source.x', verification: SECRETS.header });
    await ingest(h, source.ingestUrl, { body: '{}' });
    expect(await h.redis.exists(`${h.prefix}:src:${source.id}:req`)).toBe(1);
    expect((await h.call('DELETE', `${base}/${source.id}`)).status).toBe(204);
    expect((await h.call('GET', `${base}/${source.id}`)).status).toBe(404);
    expect((await ingest(h, source.ingestUrl, { body: '{}' })).status).toBe(404);
    expect(await h.redis.exists(`${h.prefix}:src:${source.id}:req`)).toBe(0);
  });

  it('does not bring a deleted source back from a change or a verification read before the DELETE', async () => {
    const source = await createSource(h, sid, { eventType: 'source.x', verification: SECRETS.header });
    // What a PATCH and an ingest request hold, read before the DELETE lands.
    const read = (await h.store.sources.get(source.id))!;
    expect((await h.call('DELETE', `${base}/${source.id}`)).status).toBe(204);
    expect(await h.store.sources.save({ ...read, name: 'renamed' } as typeof read)).toBe(false);
    await h.store.sources.markVerified(source.id, 1);
    // Before, the record, its index entry and its token came back: the deleted URL took requests again.
    expect((await h.call('GET', base)).body.data).toEqual([]);
    expect((await ingest(h, source.ingestUrl, { body: '{}', headers: { 'x-webhook-token': 'header-secret-value-1' } })).status).toBe(404);
    expect(await h.redis.exists(`${h.prefix}:src:${source.id}`, `${h.prefix}:src:${source.id}:verified`)).toBe(0);
    expect(await h.store.sources.count(sid)).toBe(0);
  });

  it('keeps the request history with the store retention, like deliveries', async () => {
    const source = await createSource(h, sid, { eventType: 'source.x', verification: SECRETS.header });
    await ingest(h, source.ingestUrl, { body: '{}' });
    const pttl = await h.redis.pttl(`${h.prefix}:src:${source.id}:req`);
    expect(pttl).toBeGreaterThan(29 * 86_400_000);
    expect(pttl).toBeLessThanOrEqual(30 * 86_400_000);
    expect(await historyOf(h, sid, source.id)).toEqual([
      {
        id: expect.stringMatching(/^req_/),
        at: expect.any(Number),
        method: 'POST',
        status: 401,
        outcome: 'rejected',
        reason: 'missing_header: x-webhook-token',
        bytes: 2,
      },
    ]);
  });

  describe('tenancy', () => {
    it('answers 404 to another subscriber for every route on a source that is not theirs', async () => {
      const source = await createSource(h, sid, { eventType: 'source.x', verification: SECRETS.slack });
      const other = await newSubscriber(h, 'Other');
      const asOther = { key: other.key };
      const paths = [`${base}/${source.id}`, `/v1/subscribers/${other.sid}/sources/${source.id}`];
      for (const path of paths) {
        expect((await h.call('GET', path, asOther)).status).toBe(404);
        expect((await h.call('PATCH', path, { ...asOther, body: { name: 'x' } })).status).toBe(404);
        expect((await h.call('GET', `${path}/requests`, asOther)).status).toBe(404);
        expect((await h.call('DELETE', path, asOther)).status).toBe(404);
      }
      expect((await h.call('GET', base, asOther)).status).toBe(404);
      expect(
        (await h.call('POST', base, { ...asOther, body: { name: 'x', eventType: 'source.x', verification: SECRETS.slack } })).status,
      ).toBe(404);
      expect((await h.call('GET', `/v1/subscribers/${other.sid}/sources`, asOther)).body.data).toEqual([]);
      expect((await h.call('GET', `${base}/${source.id}`)).status).toBe(200);
    });

    it('forbids a publisher key from managing sources', async () => {
      const publisher = (await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } })).body.apiKey;
      expect((await h.call('GET', base, { key: publisher })).status).toBe(403);
    });
  });
});

describe('with HOOKRELAY_ALLOW_UNAUTHENTICATED_SOURCES=true', () => {
  const h = useApiHarness({ worker: false, policy: { allowUnauthenticatedSources: true } });

  it('creates a source without verification and publishes whatever reaches its URL', async () => {
    const { sid } = await newSubscriber(h);
    const source = await createSource(h, sid, { eventType: 'source.open', verification: { type: 'none' } });
    const res = await ingest(h, source.ingestUrl, { body: '{"hello":"world"}' });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ status: 'published', eventId: expect.stringMatching(/^evt_/) });
    expect((await h.call('GET', `/v1/subscribers/${sid}/sources/${source.id}`)).body.status).toBe('verified');
  });
});
