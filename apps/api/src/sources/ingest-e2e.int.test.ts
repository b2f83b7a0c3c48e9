import { verifyHubSignature } from '@hookrelay/signing';
import { TestReceiver, waitForDrain } from '@hookrelay/testing';
import { useApiHarness } from '../api-harness';
import { createSource, ingest, newSubscriber } from './source-test-kit';
import { githubSignature } from './vendor-signers';

const GITHUB_SECRET = 'gh-e2e-secret-5f1c';

describe('a GitHub webhook through a source to a subscriber endpoint', () => {
  const h = useApiHarness();
  const receivers: TestReceiver[] = [];

  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
  });

  async function endpoint(sid: string, eventTypes: string[]): Promise<{ receiver: TestReceiver; secret: string }> {
    const receiver = await TestReceiver.start();
    receivers.push(receiver);
    const res = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: receiver.url, eventTypes } });
    expect(res.status).toBe(201);
    return { receiver, secret: res.body.secret };
  }

  it('arrives re-signed with the endpoint x-hub-signature, only at endpoints whose patterns match', async () => {
    const { sid } = await newSubscriber(h);
    const github = await endpoint(sid, ['github.*']);
    const stripeOnly = await endpoint(sid, ['stripe.*']);
    const source = await createSource(h, sid, {
      name: 'acme/api on GitHub',
      eventType: 'github.{$.action}',
      verification: { type: 'hmac', header: 'X-Hub-Signature-256', prefix: 'sha256=', secret: GITHUB_SECRET },
    });

    // What GitHub sends: pretty-printed JSON, signed over exactly these bytes.
    const payload = {
      action: 'closed',
      pull_request: { number: 7, merged: true, title: 'Ship inbound sources ✓' },
      repository: { full_name: 'acme/api' },
    };
    const body = JSON.stringify(payload, null, 2);
    const res = await ingest(h, source.ingestUrl, {
      body,
      headers: {
        'x-github-event': 'pull_request',
        'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        'x-hub-signature-256': await githubSignature(GITHUB_SECRET, body),
      },
    });
    expect(res.status).toBe(202);

    const [delivered] = await github.receiver.waitForRequests(1);
    expect(delivered?.headers).toMatchObject({ 'x-hookrelay-event-type': 'github.closed', 'x-hookrelay-event-id': res.json.eventId });
    // The published payload is the parsed JSON, re-serialized compactly, and signed with the endpoint's own secret.
    expect(JSON.parse(delivered!.body.toString('utf8'))).toEqual(payload);
    const signature = String(delivered?.headers['x-hub-signature']);
    expect(verifyHubSignature({ secret: github.secret, body: delivered!.body, header: signature, algorithm: 'sha256' })).toBe(true);
    expect(verifyHubSignature({ secret: GITHUB_SECRET, body: delivered!.body, header: signature, algorithm: 'sha256' })).toBe(false);

    await waitForDrain(h.worker!);
    expect(stripeOnly.receiver.requests).toEqual([]);
    expect(github.receiver.requests).toHaveLength(1);
  });
});
