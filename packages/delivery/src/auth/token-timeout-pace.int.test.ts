import type { EndpointAuth } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, useTestReceiver } from '@hookrelay/testing';
import { useEngineHarness } from '../engine-harness';

// An attempt whose OAuth token request timed out held its worker slot for the token timeout, as
// one whose send timed out holds it for the endpoint's: both count as slow towards the endpoint's
// lane, whatever the attempt's duration reads. It read from the clock before: a timer can fire a
// millisecond before Date.now() shows its whole delay, and a token timeout equal to slowAttemptMs
// then counted as prompt. Here the token timeout is below slowAttemptMs, so only the timeout
// itself can make the attempts slow.

// Long enough that a token host answering 500 at once is never cut off on a loaded CI machine (150 ms
// was, once, beside a full test run), far below slowAttemptMs.
const TOKEN_TIMEOUT_MS = 600;
const twice = { maxRetries: 1, intervalMs: 10, backoff: 'fixed' as const };

describe('an attempt whose OAuth token request times out', () => {
  // /hang never answers; /refuse answers 500 at once.
  const tokenHost = useTestReceiver((req, res) => {
    if (req.url.startsWith('/refuse')) res.writeHead(500).end();
  }, 'each');
  const receiver = useTestReceiver(undefined, 'each');
  const h = useEngineHarness({ oauthTokenTimeoutMs: TOKEN_TIMEOUT_MS, scheduling: { slowAttemptMs: 5_000, slowAfter: 2 } }, 'each');
  const laneMoves = (endpointId: string) => h.logLines.filter((l) => l.msg === 'endpoint.lane_changed' && l.endpointId === endpointId);
  const oauth = (path: string): EndpointAuth => ({
    type: 'oauth2-client-credentials',
    tokenUrl: `${tokenHost.url}${path}`,
    clientId: `client${path.replace('/', '-')}`,
    clientSecret: 'token-secret',
    clientAuth: 'body',
  });

  it('counts towards the slow lane; a token request refused at once does not', async () => {
    const hanging = await h.saveEndpoint(
      buildEndpoint({ subscriberId: 'sub_hang', url: `${receiver.url}/a`, auth: oauth('/hang'), retry: twice }),
    );
    const refused = await h.saveEndpoint(
      buildEndpoint({ subscriberId: 'sub_refuse', url: `${receiver.url}/b`, auth: oauth('/refuse'), retry: twice }),
    );
    const timedOut = await h.enqueue(buildEvent({ subscriberId: 'sub_hang' }), hanging);
    const answered = await h.enqueue(buildEvent({ subscriberId: 'sub_refuse' }), refused);

    expect(await h.waitForState(timedOut, ['failed', 'delivered'], 10_000)).toMatchObject({ state: 'failed', attempts: 2 });
    expect(await h.waitForState(answered, ['failed', 'delivered'], 10_000)).toMatchObject({ state: 'failed', attempts: 2 });
    const hungAttempts = await h.store.deliveries.attempts(timedOut);
    expect(hungAttempts.map((a) => a.errorMessage)).toEqual([
      'oauth2: token endpoint unreachable (timeout)',
      'oauth2: token endpoint unreachable (timeout)',
    ]);
    // Far below slowAttemptMs: the duration alone would have counted them as prompt.
    for (const a of hungAttempts) expect(a.durationMs).toBeLessThan(5_000);
    expect((await h.store.deliveries.attempts(answered)).map((a) => a.errorMessage)).toEqual([
      'oauth2: token endpoint answered HTTP 500',
      'oauth2: token endpoint answered HTTP 500',
    ]);

    expect(laneMoves(hanging.id)).toMatchObject([{ lane: 'slow' }]);
    expect(laneMoves(refused.id)).toEqual([]);
    expect(receiver.requests).toHaveLength(0);
  }, 20_000);
});
