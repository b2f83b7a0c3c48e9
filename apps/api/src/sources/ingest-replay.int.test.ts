import { randomUUID } from 'node:crypto';
import { useApiHarness } from '../api-harness';
import { createSource, eventsOf, GITHUB, GITHUB_SECRET, historyOf, ingest, useSubscriber } from './source-test-kit';
import { githubSignature, slackHeaders, stripeSignature } from './vendor-signers';

const STRIPE_SECRET = 'whsec_replay_0123456789abcdef';
const SLACK_SECRET = 'slack-signing-secret-replay';

describe('ingest: replayed requests publish once', () => {
  const h = useApiHarness({ worker: false });
  const subscriber = useSubscriber(h);

  /** Sends the same request `times` times, one after the other. */
  async function sendRepeatedly(url: string, body: string, headers: Record<string, string>, times = 3) {
    const answers = [];
    for (let i = 0; i < times; i++) answers.push(await ingest(h, url, { body, headers }));
    return answers;
  }

  /** PTTL of every replay claim the source holds. */
  async function replayClaimTtls(sourceId: string): Promise<number[]> {
    const keys = await h.redis.keys(`${h.prefix}:src:${sourceId}:rp:*`);
    return Promise.all(keys.map((k) => h.redis.pttl(k)));
  }

  it('a replayed Stripe request is answered duplicate with the first event, within the tolerance, and remembered no longer', async () => {
    const source = await createSource(h, subscriber.sid, {
      eventType: 'stripe.{$.type}',
      verification: { type: 'stripe', secret: STRIPE_SECRET, toleranceSeconds: 300 },
    });
    const body = JSON.stringify({ id: 'evt_1Nq', type: 'invoice.paid' });
    const [first, ...replays] = await sendRepeatedly(source.ingestUrl, body, { 'stripe-signature': stripeSignature(STRIPE_SECRET, body) });
    expect(first?.status).toBe(202);
    for (const replay of replays)
      expect({ status: replay.status, json: replay.json }).toEqual({
        status: 200,
        json: { status: 'duplicate', eventId: first?.json.eventId },
      });
    expect(await eventsOf(h, subscriber.sid)).toEqual([first?.json.eventId]);
    expect((await historyOf(h, subscriber.sid, source.id)).map((r) => [r.outcome, r.status, r.eventId, r.reason])).toEqual([
      ['duplicate', 200, first?.json.eventId, 'stripe signature already accepted'],
      ['duplicate', 200, first?.json.eventId, 'stripe signature already accepted'],
      ['published', 202, first?.json.eventId, undefined],
    ]);
    // Stored only until the timestamp leaves the tolerance (then the verifier refuses the copy itself).
    const [ttl, ...more] = await replayClaimTtls(source.id);
    expect(more).toEqual([]);
    expect(ttl).toBeGreaterThan(290_000);
    expect(ttl).toBeLessThanOrEqual(301_000);
    // The same event re-signed (what Stripe does when it retries) is another request: the signature differs.
    const resigned = await ingest(h, source.ingestUrl, {
      body,
      headers: { 'stripe-signature': stripeSignature(STRIPE_SECRET, body, Math.floor(Date.now() / 1000) - 5) },
    });
    expect(resigned.status).toBe(202);
  });

  it('a replayed Slack request is answered duplicate with the first event', async () => {
    const source = await createSource(h, subscriber.sid, {
      eventType: 'slack.{$.event.type}',
      verification: { type: 'slack', signingSecret: SLACK_SECRET },
    });
    const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev08', event: { type: 'message', text: 'deploy done' } });
    const [first, ...replays] = await sendRepeatedly(source.ingestUrl, body, slackHeaders(SLACK_SECRET, body));
    expect(first?.status).toBe(202);
    expect(replays.map((r) => r.json)).toEqual([
      { status: 'duplicate', eventId: first?.json.eventId },
      { status: 'duplicate', eventId: first?.json.eventId },
    ]);
    expect(await eventsOf(h, subscriber.sid)).toEqual([first?.json.eventId]);
    expect((await historyOf(h, subscriber.sid, source.id, '?outcome=duplicate')).map((r) => r.eventId)).toEqual([
      first?.json.eventId,
      first?.json.eventId,
    ]);
  });

  describe('GitHub with dedupe: {header: "X-GitHub-Delivery"}', () => {
    it('publishes a delivery once however often it is replayed or redelivered, and other deliveries as usual', async () => {
      const source = await createSource(h, subscriber.sid, {
        eventType: 'github.{$.action}',
        verification: GITHUB,
        dedupe: { header: 'X-GitHub-Delivery' },
      });
      expect(source.body.dedupe).toEqual({ header: 'x-github-delivery', windowSeconds: 86_400 });
      const body = JSON.stringify({ action: 'opened', pull_request: { number: 42 } });
      const delivery = randomUUID();
      const headers = {
        'x-github-event': 'pull_request',
        'x-github-delivery': delivery,
        'x-hub-signature-256': await githubSignature(GITHUB_SECRET, body),
      };
      const [first, ...replays] = await sendRepeatedly(source.ingestUrl, body, headers);
      expect(first?.status).toBe(202);
      expect(replays.map((r) => [r.status, r.json])).toEqual([
        [200, { status: 'duplicate', eventId: first?.json.eventId }],
        [200, { status: 'duplicate', eventId: first?.json.eventId }],
      ]);
      const next = JSON.stringify({ action: 'closed', pull_request: { number: 42 } });
      const other = await ingest(h, source.ingestUrl, {
        body: next,
        headers: { ...headers, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': await githubSignature(GITHUB_SECRET, next) },
      });
      expect(other.status).toBe(202);
      expect((await eventsOf(h, subscriber.sid)).sort()).toEqual([first?.json.eventId, other.json.eventId].sort());
      expect((await historyOf(h, subscriber.sid, source.id)).map((r) => [r.outcome, r.reason])).toEqual([
        ['published', undefined],
        ['duplicate', 'x-github-delivery already published'],
        ['duplicate', 'x-github-delivery already published'],
        ['published', undefined],
      ]);
      expect(await replayClaimTtls(source.id)).toEqual([expect.any(Number), expect.any(Number)]);
      for (const ttl of await replayClaimTtls(source.id)) expect(ttl).toBeLessThanOrEqual(86_400_000);
    });

    it('publishes once when copies race each other; the others are duplicates or told to retry', async () => {
      const source = await createSource(h, subscriber.sid, {
        eventType: 'github.{$.action}',
        verification: GITHUB,
        dedupe: { header: 'X-GitHub-Delivery', windowSeconds: 60 },
      });
      const body = JSON.stringify({ action: 'synchronize' });
      const headers = { 'x-github-delivery': randomUUID(), 'x-hub-signature-256': await githubSignature(GITHUB_SECRET, body) };
      const answers = await Promise.all(Array.from({ length: 12 }, () => ingest(h, source.ingestUrl, { body, headers })));
      const published = answers.filter((a) => a.status === 202);
      expect(published).toHaveLength(1);
      for (const a of answers.filter((x) => x.status !== 202)) {
        if (a.status === 200) expect(a.json).toEqual({ status: 'duplicate', eventId: published[0]?.json.eventId });
        else expect([a.status, a.json.error.code, a.headers.get('retry-after')]).toEqual([409, 'duplicate_in_progress', '1']);
      }
      expect(await eventsOf(h, subscriber.sid)).toEqual([published[0]?.json.eventId]);
      const [ttl] = await replayClaimTtls(source.id);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    });

    it('does not dedupe a request without the header, nor one that was not published (it is judged again)', async () => {
      const source = await createSource(h, subscriber.sid, {
        eventType: 'github.{$.action}',
        verification: GITHUB,
        dedupe: { header: 'X-GitHub-Delivery' },
        matches: { '$.action': 'opened' },
      });
      const body = JSON.stringify({ action: 'opened' });
      const signature = await githubSignature(GITHUB_SECRET, body);
      const unnamed = await sendRepeatedly(source.ingestUrl, body, { 'x-hub-signature-256': signature }, 2);
      expect(unnamed.map((a) => a.status)).toEqual([202, 202]);
      const ignoredBody = JSON.stringify({ action: 'labeled' });
      const ignoredHeaders = { 'x-github-delivery': 'd-ignored', 'x-hub-signature-256': await githubSignature(GITHUB_SECRET, ignoredBody) };
      const ignored = await sendRepeatedly(source.ingestUrl, ignoredBody, ignoredHeaders, 2);
      expect(ignored.map((a) => a.json)).toEqual([{ status: 'ignored' }, { status: 'ignored' }]);
    });

    it('is refused with a 400 naming the field when malformed, and turned off with null', async () => {
      const base = `/v1/subscribers/${subscriber.sid}/sources`;
      for (const [dedupe, path] of [
        [{ header: 'X GitHub Delivery' }, 'dedupe.header'],
        [{ header: 'x-id', windowSeconds: 0 }, 'dedupe.windowSeconds'],
        [{ header: 'x-id', windowSeconds: 604_801 }, 'dedupe.windowSeconds'],
        [{ header: 'x-id', extra: 1 }, 'dedupe'],
        [{}, 'dedupe.header'],
      ] as const) {
        const res = await h.call('POST', base, { body: { name: 'gh', eventType: 'github.{$.action}', verification: GITHUB, dedupe } });
        expect({ status: res.status, paths: res.body.error.details.map((d: { path: string }) => d.path) }).toEqual({
          status: 400,
          paths: [path],
        });
      }
      const source = await createSource(h, subscriber.sid, {
        eventType: 'github.{$.action}',
        verification: GITHUB,
        dedupe: { header: 'X-GitHub-Delivery', windowSeconds: 3600 },
      });
      const off = await h.call('PATCH', `${base}/${source.id}`, { body: { dedupe: null } });
      expect(off.body.dedupe).toBeNull();
      const body = JSON.stringify({ action: 'opened' });
      const headers = { 'x-github-delivery': 'same-id', 'x-hub-signature-256': await githubSignature(GITHUB_SECRET, body) };
      expect((await sendRepeatedly(source.ingestUrl, body, headers, 2)).map((a) => a.status)).toEqual([202, 202]);
    });
  });
});
