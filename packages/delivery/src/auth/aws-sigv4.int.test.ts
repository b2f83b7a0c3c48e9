import type { EndpointAuth } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, useTestReceiver, type ReceivedRequest } from '@hookrelay/testing';
import { useEngineHarness } from '../engine-harness';
import { amzDate } from './aws-sigv4';
import { leakedSecrets } from './test-servers/leak-check';
import { sigV4Matches, type SigV4Credentials } from './test-servers/sigv4-check';

const FAST_RETRY = { maxRetries: 2, intervalMs: 20, backoff: 'fixed' as const };
// AWS's documentation example keys: not real credentials.
const CREDS: SigV4Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const AUTH: EndpointAuth = { type: 'aws-sigv4', ...CREDS, region: 'eu-west-1', service: 'execute-api' };

describe('aws-sigv4 auth', () => {
  let verdicts: boolean[];
  /** What the receiver holds: change it to make it refuse. */
  let receiverCreds: SigV4Credentials;
  /** The worker's clock, when a test fixes it. */
  let fixedNow: number | undefined;
  const h = useEngineHarness({ now: () => fixedNow ?? Date.now() }, 'each');
  const receiver = useTestReceiver((req: ReceivedRequest, res) => {
    const ok = sigV4Matches(req, receiverCreds, 'eu-west-1', 'execute-api');
    verdicts.push(ok);
    res.writeHead(ok ? 200 : 401).end();
  }, 'each');

  beforeEach(() => {
    verdicts = [];
    receiverCreds = CREDS;
    fixedNow = undefined;
  });

  it('signs a delivery that the receiver verifies by recomputing the signature with aws4', async () => {
    const endpoint = await h.saveEndpoint(
      buildEndpoint({ url: `${receiver.url}/prod/hooks?source=hookrelay`, auth: AUTH, headers: { 'X-Tenant': 'acme' } }),
    );
    const id = await h.enqueue(buildEvent(), endpoint);
    expect(await h.waitForState(id, ['delivered', 'failed'])).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(verdicts).toEqual([true]);
    const [req] = receiver.requests;
    expect(req?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, /,
    );
    // The signature covers the body, the webhook signature and the custom headers.
    const signed = /SignedHeaders=([^,]+)/.exec(req?.headers.authorization ?? '')?.[1]?.split(';');
    expect(signed).toEqual(
      expect.arrayContaining([
        'host',
        'content-length',
        'content-type',
        'x-amz-date',
        'x-hub-signature',
        'x-tenant',
        'x-hookrelay-event-id',
      ]),
    );
  });

  it('takes x-amz-date from the worker clock', async () => {
    const fixed = Date.UTC(2026, 0, 2, 3, 4, 5);
    fixedNow = fixed;
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: AUTH }));
    await h.waitForState(await h.enqueue(buildEvent(), endpoint), ['delivered']);
    expect(receiver.requests[0]?.headers['x-amz-date']).toBe('20260102T030405Z');
    expect(amzDate(fixed)).toBe('20260102T030405Z');
  });

  it('sends the session token, signed, and keeps it out of the stored headers and logs', async () => {
    const sessionToken = 'FwoGZXIvYXdzEXAMPLEsessionTOKEN0123456789';
    receiverCreds = { ...CREDS, sessionToken };
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: { ...AUTH, sessionToken } }));
    const id = await h.enqueue(buildEvent(), endpoint);
    await h.waitForState(id, ['delivered']);
    expect(receiver.requests[0]?.headers['x-amz-security-token']).toBe(sessionToken);
    const [attempt] = await h.store.deliveries.attempts(id);
    expect(attempt?.requestHeaders).toMatchObject({ authorization: '[redacted]', 'x-amz-security-token': '[redacted]' });
    expect(await leakedSecrets(h, [id], [CREDS.secretAccessKey, sessionToken])).toEqual([]);
  });

  describe('when the secret key is wrong', () => {
    it('gets a 401 and follows the retry policy', async () => {
      const endpoint = await h.saveEndpoint(
        buildEndpoint({ url: receiver.url, auth: { ...AUTH, secretAccessKey: 'not-the-key' }, retry: FAST_RETRY }),
      );
      const id = await h.enqueue(buildEvent(), endpoint);
      expect(await h.waitForState(id, ['failed', 'delivered'])).toMatchObject({ state: 'failed', attempts: 3, lastStatusCode: 401 });
      expect(verdicts).toEqual([false, false, false]);
    });
  });

  it('is refused when the body or a signed header changed in transit', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: `${receiver.url}/hooks`, auth: AUTH }));
    await h.waitForState(await h.enqueue(buildEvent(), endpoint), ['delivered']);
    const req = receiver.requests[0] as ReceivedRequest;
    expect(sigV4Matches(req, CREDS, 'eu-west-1', 'execute-api')).toBe(true);
    const body = Buffer.from(req.body.toString().replace('Disk full', 'Disk fine'));
    expect(sigV4Matches({ ...req, body }, CREDS, 'eu-west-1', 'execute-api')).toBe(false);
    expect(sigV4Matches({ ...req, headers: { ...req.headers, 'x-hookrelay-attempt': '2' } }, CREDS, 'eu-west-1', 'execute-api')).toBe(
      false,
    );
    expect(sigV4Matches({ ...req, url: '/other' }, CREDS, 'eu-west-1', 'execute-api')).toBe(false);
  });
});
