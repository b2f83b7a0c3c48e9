import { useTestReceiver } from '@hookrelay/testing';
import { useApiHarness } from './api-harness';
import { createSource, ingest } from './sources/source-test-kit';

describe('secrets out of logs and caches', () => {
  const receiver = useTestReceiver({ status: 200 });
  const h = useApiHarness({ worker: false });
  let sid: string;

  beforeAll(async () => {
    const created = await h.call('POST', '/v1/subscribers', { body: { name: 'Acme' } });
    sid = created.body.id;
  });

  it('answers every response that carries a secret with Cache-Control: no-store', async () => {
    const ep = `/v1/subscribers/${sid}/endpoints`;
    const endpoint = await h.call('POST', ep, { body: { url: receiver.url } });
    const source = await h.call('POST', `/v1/subscribers/${sid}/sources`, {
      body: { name: 'gh', eventType: 'source.gh', verification: { type: 'hmac', header: 'x-sig', secret: 'hmac-secret-0123' } },
    });
    const carrying = {
      'POST /v1/subscribers (a subscriber key)': await h.call('POST', '/v1/subscribers', { body: { name: 'Other' } }),
      'POST /v1/api-keys (a publisher key)': await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } }),
      'POST /v1/subscribers/:sid/api-keys': await h.call('POST', `/v1/subscribers/${sid}/api-keys`),
      'POST endpoints (the generated secret)': endpoint,
      'GET .../secret': await h.call('GET', `${ep}/${endpoint.body.id}/secret`),
      'POST .../secret/rotate': await h.call('POST', `${ep}/${endpoint.body.id}/secret/rotate`),
      'PATCH endpoint issuing a new secret': await h.call('PATCH', `${ep}/${endpoint.body.id}`, {
        body: { signature: { scheme: 'standard-webhooks' } },
      }),
      'POST sources (the ingest URL)': source,
      'GET sources': await h.call('GET', `/v1/subscribers/${sid}/sources`),
      'GET source': await h.call('GET', `/v1/subscribers/${sid}/sources/${source.body.id}`),
      'PATCH source': await h.call('PATCH', `/v1/subscribers/${sid}/sources/${source.body.id}`, { body: { name: 'renamed' } }),
    };
    const answers = Object.entries(carrying).map(([what, res]) => [what, res.status < 300, res.headers.get('cache-control')]);
    expect(answers).toEqual(Object.keys(carrying).map((what) => [what, true, 'no-store']));
    expect(carrying['PATCH endpoint issuing a new secret'].body.secret).toMatch(/^whsec_/);
    // Ingest answers and errors too; public documents stay cacheable.
    expect((await ingest(h, source.body.ingestUrl, { body: '{}' })).headers.get('cache-control')).toBe('no-store');
    expect((await h.call('GET', `${ep}/ep_missing/secret`)).headers.get('cache-control')).toBe('no-store');
    expect((await h.call('GET', '/openapi.json', { key: null })).headers.get('cache-control')).toBeNull();
  });

  it('never logs an ingest token, whatever the case or form of the /in/ path', async () => {
    const logged = h.logLines.length;
    const source = await createSource(h, sid, {
      eventType: 'source.jenkins',
      verification: { type: 'basic', username: 'jenkins', password: 'correct horse' },
    });
    const token = source.ingestUrl.slice('/in/'.length);
    const auth = { authorization: `Basic ${Buffer.from('jenkins:correct horse').toString('base64')}` };
    const paths = [`/in/${token}`, `/IN/${token}`, `/In/${token}?challenge=c1`, `//in/${token}`, `/%69n/${token}`, `/%49N/${token}/extra`];
    const statuses = [];
    for (const path of paths) statuses.push((await ingest(h, path, { body: '{}', headers: auth })).status);
    // Express routes the path case-insensitively: the upper-case forms reach the source too.
    expect(statuses.slice(0, 3)).toEqual([202, 202, 202]);
    const lines = h.logLines.slice(logged).filter((l) => l.msg === 'request.completed' || l.msg === 'request.failed');
    const urls = lines.map((l) => (l.req as { url: string }).url).filter((u) => u.startsWith('/in/'));
    // No query either: an ingest URL's query can hold a source's secret (Meta's hub.verify_token).
    expect(urls.filter((u) => u === '/in/[redacted]')).toHaveLength(paths.length);
    expect(JSON.stringify(h.logLines)).not.toContain(token);
  });
});
