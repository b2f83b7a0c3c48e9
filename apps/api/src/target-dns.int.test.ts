import { threadPoolDns } from '@hookrelay/testing';
import { useApiHarnessPerTest } from './api-harness';

/** How long a lookup of a name whose nameserver never answers holds its thread (glibc: 5 s a try). */
const SILENT_MS = 1500;

describe('when a subscriber registers endpoints at names whose DNS never answers', () => {
  const startApiHarness = useApiHarnessPerTest();

  it("another subscriber's registration is checked at once, and each refusal names the DNS error", async () => {
    const dns = threadPoolDns({ zone: { 'public.test': '93.184.216.34' }, silentMs: SILENT_MS });
    // Private targets refused: every hostname is resolved and checked before it is stored.
    const api = await startApiHarness({ worker: false, policy: { allowPrivateTargets: false }, resolve: dns.resolve });
    const subscriber = async (name: string) => (await api.call('POST', '/v1/subscribers', { body: { name } })).body.id as string;
    const [attacker, victim] = [await subscriber('attacker'), await subscriber('victim')];

    const names = ['a1', 'a2', 'a3', 'a4'].map((n) => `${n}.silent.test`);
    const attacks = names.map((name) =>
      api.call('POST', `/v1/subscribers/${attacker}/endpoints`, { body: { url: `https://${name}/hooks` }, timeoutMs: 15_000 }),
    );
    const until = Date.now() + 10_000;
    while (dns.asked.filter((n) => n.endsWith('.silent.test')).length < 2) {
      if (Date.now() > until) throw new Error(`the attacker's lookups never started: ${dns.asked.join(', ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }

    const started = Date.now();
    const created = await api.call('POST', `/v1/subscribers/${victim}/endpoints`, { body: { url: 'https://public.test/hooks' } });
    const victimMs = Date.now() - started;
    expect(created.status).toBe(201);
    // Its lookup had a thread: the attacker's lookups are its own to wait for (at most two of three at once).
    expect(victimMs).toBeLessThan(SILENT_MS / 2);

    for (const [i, res] of (await Promise.all(attacks)).entries()) {
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'url', message: `cannot resolve ${names[i]} (EAI_AGAIN)` }]);
    }
    expect((await api.call('GET', `/v1/subscribers/${attacker}/endpoints`)).body.data).toEqual([]);
  }, 30_000);
});
