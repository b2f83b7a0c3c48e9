import { scriptedDns } from '@hookrelay/testing';
import { createGuardedLookup } from './guarded-lookup';
import { ADDRESSES_PER_FAMILY, dnsQueuedMsOf, HostResolver } from './host-resolver';
import type { ResolvedAddress } from './types';

const ADDRESS: ResolvedAddress[] = [{ address: '198.51.100.7', family: 4 }];

/** Lets pending promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

/** The error a lookup fails with (undefined if it answers). */
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

describe('HostResolver', () => {
  it('asks once for every caller of one name meanwhile, and keeps the answer for cacheMs', async () => {
    let now = 1_000;
    const dns = scriptedDns();
    const resolver = new HostResolver({ resolve: dns.resolve, now: () => now, cacheMs: 30_000 });
    const answers = Promise.all([resolver.lookup('hook.test', 'a'), resolver.lookup('HOOK.test', 'b'), resolver.lookup('hook.test', 'a')]);
    await settle();
    dns.answer('hook.test');
    expect(await answers).toEqual([ADDRESS, ADDRESS, ADDRESS]);
    now += 29_999;
    expect(await resolver.lookup('hook.test')).toEqual(ADDRESS);
    expect(dns.calls).toEqual(['hook.test']);
    now += 1;
    const again = resolver.lookup('hook.test');
    await settle();
    dns.answer('hook.test');
    await again;
    expect(dns.calls).toEqual(['hook.test', 'hook.test']);
  });

  it("makes room by dropping run-out answers, then the least recently used names: never every other subscriber's at once", async () => {
    let now = 1_000;
    const calls: string[] = [];
    const resolver = new HostResolver({
      resolve: async (host) => {
        calls.push(host);
        return ADDRESS;
      },
      now: () => now,
      cacheMs: 30_000,
      cacheEntries: 100,
    });
    const lookUp = async (hosts: string[], caller: string) => {
      for (const host of hosts) await resolver.lookup(host, caller);
    };
    const victims = Array.from({ length: 10 }, (_, i) => `victim-${i}.test`);
    const stale = Array.from({ length: 40 }, (_, i) => `stale-${i}.test`);
    await lookUp(stale, 'attacker');
    now += 20_000;
    await lookUp(victims, 'victim');
    now += 15_000; // the stale names have run out; the victims' have 15 s left
    // A subscriber cycling through new names fills the cache again and again (300 names through
    // a cache of 100)...
    for (let round = 0; round < 10; round++) {
      await lookUp(
        Array.from({ length: 30 }, (_, i) => `cycle-${round}-${i}.test`),
        'attacker',
      );
      // ...while the victims keep using theirs.
      await lookUp(victims, 'victim');
    }
    // Each victim name was looked up once: used recently, it was never the one evicted.
    expect(calls.filter((h) => h.startsWith('victim-'))).toHaveLength(10);
  });

  it("answers a connection from an answer that ran out less than a minute ago, so a request that waited for its connection takes no one's lookup", async () => {
    let now = 1_000;
    const dns = scriptedDns();
    const resolver = new HostResolver({ resolve: dns.resolve, now: () => now, cacheMs: 30_000 });
    const first = resolver.lookup('hook.test', 'sub_a');
    await settle();
    dns.answer('hook.test');
    await first;
    now += 30_000 + 59_999;
    expect(await resolver.lookupForConnection('hook.test')).toEqual(ADDRESS);
    expect(dns.calls).toEqual(['hook.test']);
    // A delivery's own lookup still asks again once the answer ran out.
    const fresh = resolver.lookup('hook.test', 'sub_a');
    await settle();
    expect(dns.calls).toEqual(['hook.test', 'hook.test']);
    dns.answer('hook.test');
    await fresh;
    // Past the minute, a connection asks too (as the anonymous caller).
    now += 30_000 + 60_000;
    const late = resolver.lookupForConnection('hook.test');
    await settle();
    expect(dns.calls).toEqual(['hook.test', 'hook.test', 'hook.test']);
    dns.answer('hook.test');
    expect(await late).toEqual(ADDRESS);
  });

  it('answers an IP literal with itself, as dns.lookup does, without a call or a slot', async () => {
    const dns = scriptedDns();
    const resolver = new HostResolver({ resolve: dns.resolve, maxLookups: 1 });
    expect(await resolver.lookup('203.0.113.7', 'a')).toEqual([{ address: '203.0.113.7', family: 4 }]);
    expect(await resolver.lookup('::1', 'a')).toEqual([{ address: '::1', family: 6 }]);
    expect(dns.calls).toEqual([]);
    expect(resolver.inFlight).toBe(0);
  });

  it('keeps a failure for failureCacheMs, with its code, then asks again', async () => {
    let now = 1_000;
    const dns = scriptedDns();
    const resolver = new HostResolver({ resolve: dns.resolve, now: () => now, failureCacheMs: 10_000 });
    const first = resolver.lookup('typo.test');
    await settle();
    dns.fail('typo.test');
    await expect(first).rejects.toMatchObject({ code: 'ENOTFOUND' });
    now += 9_999;
    await expect(resolver.lookup('typo.test')).rejects.toMatchObject({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND typo.test' });
    expect(dns.calls).toEqual(['typo.test']);
    now += 1;
    const again = resolver.lookup('typo.test');
    await settle();
    expect(dns.calls).toEqual(['typo.test', 'typo.test']);
    dns.answer('typo.test');
    expect(await again).toEqual(ADDRESS);
  });

  it('gives a caller up after timeoutMs with EAI_AGAIN, and keeps the late answer for the next', async () => {
    const dns = scriptedDns();
    const resolver = new HostResolver({ resolve: dns.resolve, timeoutMs: 30 });
    const started = Date.now();
    await expect(resolver.lookup('silent.test')).rejects.toMatchObject({
      code: 'EAI_AGAIN',
      message: 'getaddrinfo EAI_AGAIN silent.test (no answer within 30 ms)',
    });
    expect(Date.now() - started).toBeLessThan(1000);
    // The call still holds its place until it ends; a new caller joins it rather than asking again.
    expect(resolver.inFlight).toBe(1);
    const joined = resolver.lookup('silent.test');
    dns.answer('silent.test');
    expect(await joined).toEqual(ADDRESS);
    expect(resolver.inFlight).toBe(0);
    expect(await resolver.lookup('silent.test')).toEqual(ADDRESS);
    expect(dns.calls).toEqual(['silent.test']);
  });

  it('runs at most maxLookups calls at once, and never gives one caller all of them', async () => {
    const dns = scriptedDns();
    const resolver = new HostResolver({ resolve: dns.resolve, maxLookups: 3, timeoutMs: 60_000 });
    const attacker = ['h1', 'h2', 'h3', 'h4', 'h5'].map((h) => resolver.lookup(`${h}.evil.test`, 'sub_attacker'));
    await settle();
    // Its share is maxLookups - 1: the last call is left for everyone else.
    expect(dns.calls).toEqual(['h1.evil.test', 'h2.evil.test']);
    const victim = resolver.lookup('victim.test', 'sub_victim');
    await settle();
    expect(dns.calls).toContain('victim.test');
    dns.answer('victim.test');
    expect(await victim).toEqual(ADDRESS);
    // Two more callers while all three calls run wait for one to end; then the caller with the
    // fewest calls running goes first, however long the attacker's queue.
    const third = [resolver.lookup('c1.test', 'sub_c'), resolver.lookup('c2.test', 'sub_c')];
    await settle();
    expect(dns.calls).toEqual(['h1.evil.test', 'h2.evil.test', 'victim.test', 'c1.test']);
    const fourth = resolver.lookup('d1.test', 'sub_d');
    await settle();
    expect(resolver.inFlight).toBe(3);
    dns.answer('h1.evil.test');
    await settle();
    // sub_d has none running, sub_c one, the attacker one (h2): sub_d's goes first.
    expect(dns.calls.slice(4)).toEqual(['d1.test']);
    dns.answer('d1.test');
    await settle();
    // sub_c and the attacker have one each: turn order, in which the attacker has waited longest.
    expect(dns.calls.slice(5)).toEqual(['h3.evil.test']);
    dns.answer('c1.test');
    await settle();
    expect(dns.calls.slice(6)).toEqual(['c2.test']);
    dns.answer('c2.test');
    await Promise.all([...third, fourth]);
    for (const h of ['h2', 'h3', 'h4', 'h5']) {
      await settle();
      dns.answer(`${h}.evil.test`);
    }
    expect(await Promise.all(attacker)).toEqual([ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS]);
    expect(resolver.inFlight).toBe(0);
  });

  it('drops a lookup that waited for its turn longer than everyone asking for it, and keeps nothing of it', async () => {
    const dns = scriptedDns();
    const resolver = new HostResolver({ resolve: dns.resolve, maxLookups: 1, timeoutMs: 30 });
    const holding = resolver.lookup('slow.test', 'a').catch((err: NodeJS.ErrnoException) => err.code);
    await settle();
    await expect(resolver.lookup('queued.test', 'b')).rejects.toMatchObject({ code: 'EAI_AGAIN' });
    expect(await holding).toBe('EAI_AGAIN');
    dns.answer('slow.test');
    // The queued lookup's turn came after its only caller left: it is not made.
    const next = resolver.lookup('next.test', 'c');
    await settle();
    expect(dns.calls).toEqual(['slow.test', 'next.test']);
    dns.answer('next.test');
    expect(await next).toEqual(ADDRESS);
    // Nor kept as a failure, since nobody asked DNS: asked again, it is looked up.
    const queuedAgain = resolver.lookup('queued.test', 'b');
    await settle();
    expect(dns.calls).toEqual(['slow.test', 'next.test', 'queued.test']);
    dns.answer('queued.test');
    expect(await queuedAgain).toEqual(ADDRESS);
  });

  it('says how much of a failed wait was for a place rather than for the name (dnsQueuedMs)', async () => {
    let now = 1_000;
    const dns = scriptedDns();
    const resolver = new HostResolver({ resolve: dns.resolve, now: () => now, maxLookups: 1, timeoutMs: 60_000 });
    const first = failure(resolver.lookup('held.test', 'a'));
    await settle();
    const queued = failure(resolver.lookup('queued.test', 'b'));
    now += 400; // queued.test waits for the one place
    dns.fail('held.test');
    await settle();
    expect(dns.calls).toEqual(['held.test', 'queued.test']);
    now += 100; // then its own lookup runs
    dns.fail('queued.test');
    expect(dnsQueuedMsOf(await first)).toBe(0);
    expect(await queued).toMatchObject({ code: 'ENOTFOUND' });
    expect(dnsQueuedMsOf(await queued)).toBe(400);
    // A failure kept in the cache waited for nothing.
    expect(dnsQueuedMsOf(await failure(resolver.lookup('queued.test', 'b')))).toBe(0);
  });

  it("counts a wait behind the caller's own running lookups as its own (dnsQueuedMs 0), and one behind others' as a place's", async () => {
    let now = 1_000;
    const dns = scriptedDns();
    const resolver = new HostResolver({ resolve: dns.resolve, now: () => now, maxLookups: 3, timeoutMs: 50 });
    // The attacker's two silent names hold its share; its third waits behind them.
    const attacker = ['s1.evil.test', 's2.evil.test', 's3.evil.test'].map((host) => failure(resolver.lookup(host, 'sub_attacker')));
    // A second attacker takes the last place; the victim's name waits behind both.
    const other = failure(resolver.lookup('t1.evil.test', 'sub_other'));
    const victim = failure(resolver.lookup('victim.test', 'sub_victim'));
    await settle();
    expect(dns.calls).toEqual(['s1.evil.test', 's2.evil.test', 't1.evil.test']);
    now += 1_000;
    // Every waiter gives up at its deadline (real timers, 50 ms; the clock above says a second).
    const [, , ownWait] = await Promise.all(attacker);
    expect(ownWait).toMatchObject({ message: expect.stringContaining('s3.evil.test') });
    expect(dnsQueuedMsOf(ownWait)).toBe(0);
    expect(dnsQueuedMsOf(await victim)).toBe(1_000);
    await other;
  });

  it("starts a name another caller's lookup waits for in the asker's own turn, not behind that caller's share", async () => {
    const dns = scriptedDns();
    const resolver = new HostResolver({ resolve: dns.resolve, maxLookups: 3, timeoutMs: 60_000 });
    // The attacker holds its share with silent names, then asks for the victim's receiver.
    const silent = [resolver.lookup('s1.evil.test', 'sub_attacker'), resolver.lookup('s2.evil.test', 'sub_attacker')];
    const attackersCopy = resolver.lookup('victim.test', 'sub_attacker');
    await settle();
    expect(dns.calls).toEqual(['s1.evil.test', 's2.evil.test']);
    // The victim asking for its own receiver is not made to wait for the attacker's turn.
    const victims = resolver.lookup('victim.test', 'sub_victim');
    await settle();
    expect(dns.calls).toEqual(['s1.evil.test', 's2.evil.test', 'victim.test']);
    dns.answer('victim.test');
    expect(await victims).toEqual(ADDRESS);
    expect(await attackersCopy).toEqual(ADDRESS);
    // Started once: the attacker's turn for it is gone with it.
    dns.answer('s1.evil.test');
    dns.answer('s2.evil.test');
    await Promise.all(silent);
    expect(dns.calls).toEqual(['s1.evil.test', 's2.evil.test', 'victim.test']);
    expect(resolver.inFlight).toBe(0);
  });

  it('runs one lookup at a time for no subscriber (a connection not looked up for one)', async () => {
    const dns = scriptedDns();
    const resolver = new HostResolver({ resolve: dns.resolve, maxLookups: 3, timeoutMs: 60_000 });
    const anonymous = [resolver.lookup('t1.test'), resolver.lookup('t2.test')];
    const named = resolver.lookup('n1.test', 'sub_a');
    await settle();
    expect(dns.calls).toEqual(['t1.test', 'n1.test']);
    dns.answer('t1.test');
    await settle();
    expect(dns.calls).toEqual(['t1.test', 'n1.test', 't2.test']);
    dns.answer('t2.test');
    dns.answer('n1.test');
    await Promise.all([...anonymous, named]);
  });

  describe('when a name answers with many addresses (a wildcard zone)', () => {
    const v4 = (n: number): ResolvedAddress[] =>
      Array.from({ length: n }, (_, i) => ({ address: `93.184.${216 + (i >> 8)}.${i & 255}`, family: 4 }));
    const v6 = (n: number): ResolvedAddress[] =>
      Array.from({ length: n }, (_, i) => ({ address: `2606:2800:220:1::${i.toString(16)}`, family: 6 }));

    it('keeps the first 8 of each family, in the order given', async () => {
      const answer = [...v6(100), ...v4(200)];
      const resolver = new HostResolver({ resolve: async () => answer });
      const kept = await resolver.lookup('wild.test', 'sub_a');
      expect(ADDRESSES_PER_FAMILY).toBe(8);
      expect(kept).toEqual([...v6(8), ...v4(8)]);
      // The cached answer is the kept one: a connection gets no more.
      expect(await resolver.lookupForConnection('wild.test')).toEqual(kept);
    });

    it('keeps a refused address that comes later too, so the guard still refuses the name', async () => {
      const loopback: ResolvedAddress = { address: '127.0.0.1', family: 4 };
      const resolver = new HostResolver({ resolve: async () => [...v4(300), loopback, { address: '10.0.0.1', family: 4 }] });
      expect(await resolver.lookup('wild.test', 'sub_a')).toEqual([...v4(8), loopback]);

      const guarded = createGuardedLookup({ allowPrivate: false }, (host) => resolver.lookupForConnection(host));
      const refused = await new Promise<unknown>((resolve) => guarded('wild.test', { all: true }, (err) => resolve(err)));
      expect(refused).toMatchObject({ code: 'ESSRFBLOCKED', address: '127.0.0.1' });
    });
  });

  it('drops run-out names as new ones are kept, a few at a time, not only once the cache is full', async () => {
    let now = 1_000;
    const calls: string[] = [];
    const resolve = async (host: string) => {
      calls.push(host);
      return ADDRESS;
    };
    const resolver = new HostResolver({ resolve, now: () => now, cacheMs: 30_000 });
    for (let i = 0; i < 100; i++) await resolver.lookup(`old-${i}.test`, 'sub_a');
    now += 85_000;
    await resolver.lookup('recent.test', 'sub_b');
    // 30 s of cacheMs and the minute a connection may still use an answer: the old names are of
    // no use any more; recent.test still is. (Before, all stayed until the cache held 10,000.)
    now += 5_000;
    await resolver.lookup('new-0.test', 'sub_a');
    expect(resolver.cachedNames).toBe(100 - 8 + 2);
    // At most 8 dropped per name kept: 12 more names take the other 92.
    for (let i = 1; i <= 12; i++) await resolver.lookup(`new-${i}.test`, 'sub_a');
    expect(resolver.cachedNames).toBe(1 + 13);
    calls.length = 0;
    await resolver.lookup('recent.test', 'sub_b');
    expect(calls).toEqual([]);
  });
});
