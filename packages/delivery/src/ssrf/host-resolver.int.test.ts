import { buildEndpoint, buildEvent, threadPoolDns, useTestReceiver } from '@hookrelay/testing';
import { useEngineHarness } from '../engine-harness';

/** How long a lookup of a name whose nameserver never answers holds its thread (glibc: 5 s a try). */
const SILENT_MS = 1500;

describe("when one subscriber's receivers are names whose DNS never answers", () => {
  const receiver = useTestReceiver();
  const dns = threadPoolDns({ zone: { 'victim.test': '127.0.0.1' }, silentMs: SILENT_MS });
  const h = useEngineHarness({ resolve: dns.resolve, concurrency: 20 });

  it("still resolves another subscriber's receiver at once, and looks each silent name up once", async () => {
    const port = new URL(receiver.url).port;
    const names = ['a1', 'a2', 'a3', 'a4'].map((n) => `${n}.silent.test`);
    const attacker = await Promise.all(
      names.map((name) =>
        h.saveEndpoint(
          buildEndpoint({
            subscriberId: 'sub_attacker',
            url: `http://${name}:${port}/hook`,
            retry: { maxRetries: 0, intervalMs: 10, backoff: 'fixed' },
          }),
        ),
      ),
    );
    const victim = await h.saveEndpoint(buildEndpoint({ subscriberId: 'sub_victim', url: `http://victim.test:${port}/hook` }));
    const attacks = await Promise.all(attacker.map((endpoint) => h.enqueue(buildEvent({ type: 'custom.attack' }), endpoint)));

    // The attacker's lookups are under way (before HostResolver, all four held every thread).
    const until = Date.now() + 10_000;
    while (dns.asked.filter((n) => n.endsWith('.silent.test')).length < 2) {
      if (Date.now() > until) throw new Error(`the attacker's lookups never started: ${dns.asked.join(', ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const started = Date.now();
    await h.enqueue(buildEvent({ type: 'custom.victim' }), victim);
    await receiver.waitForRequests(1, 10_000);
    const victimMs = Date.now() - started;
    // A thread was free for it: milliseconds, not the SILENT_MS a silent name holds a thread for.
    expect(victimMs).toBeLessThan(SILENT_MS / 2);

    // The attacker's deliveries end, each recorded as a DNS failure that took its wait (so its
    // endpoints count as slow), without a connection: the victim's is the only request.
    for (const id of attacks) {
      const ended = await h.waitForState(id, ['failed'], 15_000);
      expect(ended.lastErrorKind).toBe('dns');
      const [attempt] = await h.store.deliveries.attempts(id);
      expect(attempt?.durationMs).toBeGreaterThanOrEqual(SILENT_MS - 100);
    }
    expect(receiver.requests).toHaveLength(1);
    // One lookup per silent name: the connection's lookup found the caps' failure in the cache.
    expect(dns.asked.filter((n) => n.endsWith('.silent.test')).sort()).toEqual(names);
    console.log(`dns isolation: victim delivered in ${victimMs} ms beside ${names.length} silent names (${SILENT_MS} ms each)`);
  }, 30_000);
});
