import type { EndpointAuth } from '@hookrelay/contracts';
import { buildEndpoint, buildEvent, useTestReceiver } from '@hookrelay/testing';
import { useEngineHarness } from '../engine-harness';
import { DigestServer } from './test-servers/digest-server';
import { leakedSecrets } from './test-servers/leak-check';

const FAST_RETRY = { maxRetries: 2, intervalMs: 20, backoff: 'fixed' as const };
const PASSWORD = 'Circle of Life 7616';
const AUTH: EndpointAuth = { type: 'digest', username: 'Mufasa', password: PASSWORD };

describe.each(['MD5', 'SHA-256'] as const)('digest auth with %s', (algorithm) => {
  let server: DigestServer;
  const receiver = useTestReceiver((req, res) => server.reply(req, res), 'each');
  const h = useEngineHarness({}, 'each');

  const nonceOf = (i: number) => /nonce="([^"]+)"/.exec(receiver.requests[i]?.headers.authorization ?? '')?.[1];
  const ncOf = (i: number) => /nc=([0-9a-f]{8})/.exec(receiver.requests[i]?.headers.authorization ?? '')?.[1];

  beforeEach(async () => {
    server = new DigestServer({ realm: 'hooks@receiver.test', username: 'Mufasa', password: PASSWORD, algorithm });
  });

  it('answers the 401 challenge and delivers within one attempt', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: `${receiver.url}/hooks/in?x=1`, auth: AUTH }));
    const id = await h.enqueue(buildEvent(), endpoint);
    expect(await h.waitForState(id, ['delivered', 'failed'])).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(server.verdicts).toEqual(['no-credentials', 'accepted']);
    expect(receiver.requests[1]?.headers.authorization).toContain(`algorithm=${algorithm}`);
    const attempts = await h.store.deliveries.attempts(id);
    expect(attempts.map((a) => [a.statusCode, a.outcome])).toEqual([[200, 'delivered']]);
    expect(attempts[0]?.requestHeaders.authorization).toBe('[redacted]');
  });

  it('reuses the nonce for later deliveries, counting nc upward, with no new 401', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: AUTH }));
    await h.waitForState(await h.enqueue(buildEvent(), endpoint), ['delivered']);
    for (let i = 0; i < 3; i++) await h.waitForState(await h.enqueue(buildEvent(), endpoint), ['delivered']);
    expect(server.verdicts).toEqual(['no-credentials', 'accepted', 'accepted', 'accepted', 'accepted']);
    expect([1, 2, 3, 4].map(ncOf)).toEqual(['00000001', '00000002', '00000003', '00000004']);
    expect(new Set([1, 2, 3, 4].map(nonceOf)).size).toBe(1);
  });

  it('gives concurrent deliveries distinct nc values, so none is taken for a replay', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: AUTH }));
    await h.waitForState(await h.enqueue(buildEvent(), endpoint), ['delivered']);
    const ids = await Promise.all(Array.from({ length: 15 }, () => h.enqueue(buildEvent(), endpoint)));
    for (const id of ids) expect((await h.waitForState(id, ['delivered', 'failed'])).state).toBe('delivered');
    expect(server.verdicts.filter((v) => v === 'replayed-nc')).toEqual([]);
    expect(new Set(server.accepted.map((a) => a.nc)).size).toBe(16);
  });

  describe('when the server says the nonce is stale', () => {
    it('answers the new challenge from nc 1 and delivers within the same attempt', async () => {
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: AUTH }));
      await h.waitForState(await h.enqueue(buildEvent(), endpoint), ['delivered']);
      const firstNonce = nonceOf(1);
      server.expireNonces();
      const id = await h.enqueue(buildEvent(), endpoint);
      expect(await h.waitForState(id, ['delivered', 'failed'])).toMatchObject({ state: 'delivered', attempts: 1 });
      expect(server.verdicts).toEqual(['no-credentials', 'accepted', 'stale-nonce', 'accepted']);
      expect(receiver.requests[2]?.headers.authorization).toContain(`nonce="${firstNonce}"`);
      expect(nonceOf(3)).not.toBe(firstNonce);
      expect(ncOf(3)).toBe('00000001');
    });
  });

  describe('when the password is wrong', () => {
    it('takes the 401 as a failed attempt, retries by policy, and sends at most twice per attempt', async () => {
      const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: { ...AUTH, password: 'wrong' }, retry: FAST_RETRY }));
      const id = await h.enqueue(buildEvent(), endpoint);
      expect(await h.waitForState(id, ['failed', 'delivered'])).toMatchObject({ state: 'failed', attempts: 3, lastStatusCode: 401 });
      expect(receiver.requests.length).toBeLessThanOrEqual(6);
      expect(server.verdicts).not.toContain('accepted');
    });
  });

  it('never writes the password, or a response computed from it, to logs or history', async () => {
    const endpoint = await h.saveEndpoint(buildEndpoint({ url: receiver.url, auth: AUTH }));
    const id = await h.enqueue(buildEvent(), endpoint);
    await h.waitForState(id, ['delivered']);
    const response = /response="([^"]+)"/.exec(receiver.requests[1]?.headers.authorization ?? '')?.[1] as string;
    expect(await leakedSecrets(h, [id], [PASSWORD, response])).toEqual([]);
  });
});
