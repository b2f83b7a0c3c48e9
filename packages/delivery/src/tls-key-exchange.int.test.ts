import { buildEndpoint, buildEvent, selfSignedCertificate, TestReceiver, useFixture } from '@hookrelay/testing';
import { TokenServer } from './auth/test-servers/token-server';
import { useEngineHarness } from './engine-harness';

// A receiver (or an OAuth token host) that offers only finite-field DHE made each handshake cost
// the worker's event loop ~257 ms with an 8192-bit group, before the certificate was checked, and
// closing after each response made every retry pay it again (ssrf/outbound-tls.ts). The worker
// now refuses such a server at the handshake: the attempt is a `tls` failure and nothing is sent.
// The groups here are 2048-bit: what matters is that none is negotiated.

const { key, cert } = selfSignedCertificate();
const DHE_ONLY = { key, cert, maxVersion: 'TLSv1.2', ciphers: 'DHE-RSA-AES128-GCM-SHA256', dhparam: 'auto' } as const;
const RETRY_ONCE = { maxRetries: 1, intervalMs: 1, backoff: 'fixed' as const };

describe('a receiver whose TLS offers only finite-field Diffie-Hellman', () => {
  // The worker trusts the test certificate, so before the fix these deliveries went through.
  const h = useEngineHarness({ ca: cert }, 'each');
  const dheReceiver = useFixture(
    () => TestReceiver.start({ status: 200 }, { tls: DHE_ONLY }),
    (r) => r.close(),
    'each',
  );
  const ecdheReceiver = useFixture(
    () => TestReceiver.start({ status: 200 }, { tls: { key, cert } }),
    (r) => r.close(),
    'each',
  );

  it('fails each attempt as tls without sending, while an ECDHE receiver gets its delivery', async () => {
    const refused = await h.saveEndpoint(buildEndpoint({ url: dheReceiver.url, retry: RETRY_ONCE }));
    const normal = await h.saveEndpoint(buildEndpoint({ url: ecdheReceiver.url, retry: RETRY_ONCE }));
    const refusedId = await h.enqueue(buildEvent(), refused);
    const normalId = await h.enqueue(buildEvent(), normal);

    expect(await h.waitForState(refusedId, ['delivered', 'failed'])).toMatchObject({ state: 'failed', attempts: 2 });
    const attempts = await h.store.deliveries.attempts(refusedId);
    expect(attempts.map((a) => [a.outcome, a.errorKind, a.statusCode])).toEqual([
      ['retry', 'tls', undefined],
      ['failed', 'tls', undefined],
    ]);
    expect(dheReceiver.tlsHandshakes).toBe(0);
    expect(dheReceiver.requests).toHaveLength(0);

    expect(await h.waitForState(normalId, ['delivered', 'failed'])).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(ecdheReceiver.requests).toHaveLength(1);
  });
});

describe('an OAuth token host whose TLS offers only finite-field Diffie-Hellman', () => {
  const h = useEngineHarness({ ca: cert }, 'each');
  const tokens = new TokenServer({ clientId: 'hookrelay', clientSecret: 'cs-0123456789', delayMs: 0 });
  const tokenHost = useFixture(
    () => TestReceiver.start(tokens.reply, { tls: DHE_ONLY }),
    (r) => r.close(),
    'each',
  );
  const receiver = useFixture(
    () => TestReceiver.start({ status: 200 }),
    (r) => r.close(),
    'each',
  );

  it('fails the attempt as auth without a token request or a delivery', async () => {
    const endpoint = await h.saveEndpoint(
      buildEndpoint({
        url: receiver.url,
        retry: { ...RETRY_ONCE, maxRetries: 0 },
        auth: {
          type: 'oauth2-client-credentials',
          tokenUrl: `${tokenHost.url}/oauth/token`,
          clientId: 'hookrelay',
          clientSecret: 'cs-0123456789',
          clientAuth: 'body',
        },
      }),
    );
    const id = await h.enqueue(buildEvent(), endpoint);

    expect(await h.waitForState(id, ['delivered', 'failed'])).toMatchObject({ state: 'failed', attempts: 1 });
    const [attempt] = await h.store.deliveries.attempts(id);
    expect(attempt).toMatchObject({ outcome: 'failed', errorKind: 'auth' });
    expect(tokenHost.tlsHandshakes).toBe(0);
    expect(tokens.requests).toHaveLength(0);
    expect(receiver.requests).toHaveLength(0);
  });
});
