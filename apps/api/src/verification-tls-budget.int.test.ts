import { selfSignedCertificate, TestReceiver, useFixture } from '@hookrelay/testing';
import { useApiHarness } from './api-harness';

// Endpoint verifications and test sends run on the API's event loop, which every subscriber's
// publishes share, and a receiver's certificate chain that does not verify costs it every signature
// check of the chain (up to ~227 ms a handshake: scripts/probe-tls-chain-verify.ts). Each
// subscriber may fail BURST handshakes in the process; past them its verifications and test sends
// to hosts that have not verified there are refused before any connection. The API harness's
// dispatcher trusts only Node's bundled roots, so the test receiver's certificate does not verify.

const BURST = 2;

describe('verifications and test sends of a subscriber whose handshakes keep failing', () => {
  const h = useApiHarness({ worker: false, unverifiedTls: { burst: BURST, perMinute: 0.0001 } }, 'each');
  const hostile = useFixture(
    () => TestReceiver.start({ status: 200 }, { tls: selfSignedCertificate() }),
    (r) => r.close(),
    'each',
  );

  async function subscriber(name: string): Promise<string> {
    return (await h.call('POST', '/v1/subscribers', { body: { name } })).body.id;
  }

  it('are refused without a connection once BURST handshakes failed; another subscriber still gets its own', async () => {
    const a = await subscriber('A');
    const b = await subscriber('B');
    const create = (sid: string, verify: string) =>
      h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: `${hostile.url}/hook`, verify } });

    for (let i = 0; i < BURST; i++) {
      const res = await create(a, 'get');
      expect(res.status).toBe(422);
      expect(res.body.error.message).toBe('endpoint verification (get) failed: no answer (tls)');
    }
    expect(hostile.connections).toBe(BURST);

    const refused = await create(a, 'post');
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toMatch(
      /^endpoint verification \(post\) failed: not tried: this subscriber's TLS handshakes failed too often lately; try again in \d+ s$/,
    );
    expect(hostile.connections).toBe(BURST);

    // A test send cannot wait either: its attempt is recorded as a tls failure, unsent.
    const unverified = await create(a, 'none');
    expect(unverified.status).toBe(201);
    const test = await h.call('POST', `/v1/subscribers/${a}/endpoints/${unverified.body.id}/test`, { body: {} });
    expect(test.status).toBe(200);
    expect(test.body.attempt).toMatchObject({ outcome: 'failed', errorKind: 'tls' });
    expect(test.body.attempt.errorMessage).toMatch(/^not sent: this subscriber's TLS handshakes failed too often lately/);
    expect(hostile.connections).toBe(BURST);

    // B has spent nothing: its verification gets a handshake of its own (and fails it).
    const other = await create(b, 'get');
    expect(other.status).toBe(422);
    expect(other.body.error.message).toBe('endpoint verification (get) failed: no answer (tls)');
    expect(hostile.connections).toBe(BURST + 1);
    expect(hostile.requests).toHaveLength(0);
  });
});
