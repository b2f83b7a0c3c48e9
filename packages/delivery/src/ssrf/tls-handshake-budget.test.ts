import {
  DEFAULT_TLS_HANDSHAKE_BUDGET,
  handshakeFailureOf,
  markHandshakeFailed,
  TlsHandshakeBudget,
  tlsOrigin,
  urlsConnectedTo,
  type TlsPass,
  type TlsSendOutcome,
} from './tls-handshake-budget';

const BAD = 'https://bad.example:8443/hook';
const BAD_ORIGIN = 'https://bad.example:8443';
const GOOD = 'https://good.example/hook';
const GOOD_ORIGIN = 'https://good.example:443';

function budget(options: { burst?: number; perMinute?: number; maxOrigins?: number; failureMemoryMs?: number } = {}) {
  let clock = 1_000_000;
  const b = new TlsHandshakeBudget({ burst: 2, perMinute: 6, ...options, now: () => clock });
  return { b, advance: (ms: number) => (clock += ms) };
}

function passOf(got: TlsPass | { waitMs: number }): TlsPass {
  if ('waitMs' in got) throw new Error(`no pass: wait ${got.waitMs} ms`);
  return got;
}

const ANSWERED: TlsSendOutcome = { kind: 'answered' };
const OTHER: TlsSendOutcome = { kind: 'other' };

function originOfUrl(url: string): string {
  return tlsOrigin('https:', new URL(url).hostname, new URL(url).port)!;
}

/** A failed handshake with `url`'s host, as the dispatcher's connector reports it and marks its error. */
function failedWith(b: TlsHandshakeBudget, url: string): TlsSendOutcome {
  const err = new Error('socket disconnected before secure TLS connection was established');
  markHandshakeFailed(err, originOfUrl(url));
  b.handshake(originOfUrl(url), false);
  return { kind: 'handshake_failed', failure: err };
}

/** A send that failed its handshake. */
async function fail(b: TlsHandshakeBudget, subscriberId: string, url = BAD): Promise<void> {
  const pass = passOf(await b.pass(subscriberId, [url]));
  pass.settle(failedWith(b, url));
}

/** 0 when a send would go now (it then ends without reaching the host), else how long it must wait. */
async function waitOf(b: TlsHandshakeBudget, subscriberId: string, urls: string[]): Promise<number> {
  const got = await b.pass(subscriberId, urls);
  if ('waitMs' in got) return got.waitMs;
  got.settle(OTHER);
  return 0;
}

describe('TlsHandshakeBudget', () => {
  it('defaults to ten failed handshakes at once, ten more a minute', async () => {
    expect(DEFAULT_TLS_HANDSHAKE_BUDGET).toEqual({ burst: 10, perMinute: 10 });
    const b = new TlsHandshakeBudget({ now: () => 0 });
    for (let i = 0; i < 10; i++) await fail(b, 'sub_a');
    // 10 failed against a burst of 10: the next waits a whole refill, 6 s at 10 a minute.
    expect(await waitOf(b, 'sub_a', [BAD])).toBe(6000);
  });

  it('lets a subscriber go until its burst is spent, then until one handshake has come back', async () => {
    const { b, advance } = budget();
    await fail(b, 'sub_a');
    await fail(b, 'sub_a');
    expect(await waitOf(b, 'sub_a', [BAD])).toBe(10_000); // 6 a minute: one every 10 s
    advance(4000);
    expect(await waitOf(b, 'sub_a', [BAD])).toBe(6000);
    advance(6000);
    expect(await waitOf(b, 'sub_a', [BAD])).toBe(0);
  });

  it('sets a handshake aside for each send in flight to a host not known to verify, and gives it back unless it failed one', async () => {
    const { b } = budget();
    const one = passOf(await b.pass('sub_a', ['https://one.example/']));
    const two = passOf(await b.pass('sub_a', ['https://two.example/']));
    // Both still in flight: a third side by side waits for one of them, not for a refill.
    let third: TlsPass | { waitMs: number } | undefined;
    const thirdAsked = b.pass('sub_a', ['https://three.example/']).then((p) => (third = p));
    await new Promise((r) => setImmediate(r));
    expect(third).toBeUndefined();
    one.settle(ANSWERED);
    await thirdAsked;
    passOf(third!).settle(OTHER);
    one.settle(OTHER);
    one.settle(failedWith(b, 'https://one.example/')); // settled once: the second call changes nothing
    expect(await waitOf(b, 'sub_a', ['https://three.example/'])).toBe(0);
    two.settle(failedWith(b, 'https://two.example/'));
    expect(await waitOf(b, 'sub_a', ['https://four.example/'])).toBe(0);
    await fail(b, 'sub_a', 'https://five.example/');
    expect(await waitOf(b, 'sub_a', ['https://six.example/'])).toBeGreaterThan(0);
  });

  it("holds a subscriber's sends behind its first to a host not known to verify until that one's handshake ends", async () => {
    const { b } = budget({ burst: 1 });
    const first = passOf(await b.pass('sub_a', [GOOD]));
    let behindGot: TlsPass | { waitMs: number } | undefined;
    const behind = b.pass('sub_a', [GOOD]).then((p) => (behindGot = p));
    await new Promise((r) => setImmediate(r));
    expect(behindGot).toBeUndefined();
    // The connector saw the first one's handshake verify: the one behind goes without setting any aside.
    b.handshake(GOOD_ORIGIN, true);
    await behind;
    passOf(behindGot!).settle(ANSWERED);
    first.settle(ANSWERED);
    // The burst of 1 is whole again.
    await fail(b, 'sub_a');
    expect(await waitOf(b, 'sub_a', [BAD])).toBeGreaterThan(0);
  });

  it("does not hold one subscriber's send behind another subscriber's that is trying the same host", async () => {
    const { b } = budget();
    const trying = passOf(await b.pass('sub_a', [GOOD]));
    // sub_a's send may wait long before it connects (a lane slot, its token): sub_b goes on its own.
    const other = await Promise.race([b.pass('sub_b', [GOOD]), new Promise<'held'>((r) => setTimeout(() => r('held'), 50))]);
    expect(other !== 'held' && 'settle' in other).toBe(true);
    // The connector's word on the handshake frees every subscriber's sends behind it.
    const behind = b.pass('sub_a', [GOOD]);
    b.handshake(GOOD_ORIGIN, true);
    expect('settle' in (await behind)).toBe(true);
    trying.settle(ANSWERED);
  });

  it('lets the sends behind a failed handshake go one at a time, each with a handshake of its own to spend', async () => {
    const { b } = budget({ burst: 2 });
    const first = passOf(await b.pass('sub_a', [BAD]));
    const got: Array<TlsPass | { waitMs: number }> = [];
    const behind = [1, 2, 3].map(() => b.pass('sub_a', [BAD]).then((p) => got.push(p)));
    first.settle(failedWith(b, BAD));
    // One of them tries next (the last handshake left), the others behind it.
    await new Promise((r) => setImmediate(r));
    expect(got).toHaveLength(1);
    passOf(got[0]!).settle(failedWith(b, BAD));
    await Promise.all(behind);
    expect(got.slice(1)).toEqual([{ waitMs: 10_000 }, { waitMs: 10_000 }]);
  });

  it('keeps each subscriber to its own failures', async () => {
    const { b } = budget();
    await fail(b, 'sub_a');
    await fail(b, 'sub_a');
    expect(await waitOf(b, 'sub_a', [BAD])).toBeGreaterThan(0);
    expect(await waitOf(b, 'sub_b', [BAD])).toBe(0);
  });

  it('lets an over-budget subscriber reach plain HTTP and hosts that verified', async () => {
    const { b } = budget();
    await fail(b, 'sub_a');
    await fail(b, 'sub_a');
    expect(await waitOf(b, 'sub_a', ['http://plain.example/hook'])).toBe(0);
    expect(await waitOf(b, 'sub_a', [GOOD])).toBeGreaterThan(0); // never reached here: not known to verify
    b.handshake(GOOD_ORIGIN, true);
    expect(await waitOf(b, 'sub_a', [GOOD])).toBe(0);
    // Every host of the send counts: a verified receiver with an unverified token URL waits.
    expect(await waitOf(b, 'sub_a', [GOOD, BAD])).toBeGreaterThan(0);
  });

  it('takes a send its receiver answered as proof the receiver verified (a kept-alive connection needs no handshake), not its token host', async () => {
    const { b } = budget({ burst: 1 });
    const token = 'https://token.example/oauth';
    passOf(await b.pass('sub_a', [GOOD, token])).settle(ANSWERED);
    await fail(b, 'sub_a');
    expect(await waitOf(b, 'sub_a', [GOOD])).toBe(0);
    // The token URL was not reached by that send (a cached token, or a plain-HTTP verification).
    expect(await waitOf(b, 'sub_a', [token])).toBeGreaterThan(0);
  });

  it('keeps charging a subscriber for a host that failed one of its handshakes lately, even once it verifies again, and no other subscriber', async () => {
    const { b, advance } = budget({ failureMemoryMs: 60_000 });
    await fail(b, 'sub_a', GOOD);
    // Alternating: a handshake that verifies does not make the host free again for sub_a.
    b.handshake(GOOD_ORIGIN, true);
    const one = passOf(await b.pass('sub_a', [GOOD]));
    // The one failure left is set aside by the send in flight; a second side by side waits for it.
    const second = b.pass('sub_a', [GOOD]);
    expect(await Promise.race([second, new Promise<'held'>((r) => setTimeout(() => r('held'), 30))])).toBe('held');
    // sub_b never failed there: its sends are free, however many side by side.
    for (let i = 0; i < 5; i++) expect(b.passNow('sub_b', [GOOD])).toBeDefined();
    one.settle(ANSWERED);
    passOf(await second).settle(ANSWERED);
    advance(60_000);
    await fail(b, 'sub_a', BAD);
    await fail(b, 'sub_a', BAD);
    // Over budget, and GOOD's failure is a minute old: it is free again.
    expect(await waitOf(b, 'sub_a', [GOOD])).toBe(0);
  });

  it('charges a failure on a host known to verify after the fact', async () => {
    const { b } = budget();
    b.handshake(GOOD_ORIGIN, true);
    for (let i = 0; i < 2; i++) {
      const pass = passOf(await b.pass('sub_a', [GOOD]));
      pass.settle(failedWith(b, GOOD));
      b.handshake(GOOD_ORIGIN, true);
    }
    expect(await waitOf(b, 'sub_a', [BAD])).toBe(10_000);
  });

  it('charges sends that waited on one failed connection (a token request they shared) once', async () => {
    const { b } = budget();
    const token = 'https://token.example/oauth';
    b.handshake(originOfUrl(token), true);
    b.handshake(GOOD_ORIGIN, true);
    const free = await Promise.all([1, 2, 3, 4, 5].map(() => b.pass('sub_a', [GOOD, token])));
    const shared = failedWith(b, token);
    for (const p of free) passOf(p).settle(shared);
    // One failed handshake: a burst of 2 has one left.
    expect(await waitOf(b, 'sub_a', [BAD])).toBe(0);
  });

  it("wakes a subscriber's parked endpoints one per failed handshake that comes back, in the order they were parked", async () => {
    const { b, advance } = budget();
    await fail(b, 'sub_a');
    await fail(b, 'sub_a');
    const waitMs = await waitOf(b, 'sub_a', [BAD]);
    expect(waitMs).toBe(10_000);
    expect(b.sleepMs('sub_a', 'ep_1', waitMs)).toBe(10_000);
    expect(b.sleepMs('sub_a', 'ep_2', waitMs)).toBe(20_000);
    expect(b.sleepMs('sub_a', 'ep_3', waitMs)).toBe(30_000);
    // Another delivery of a parked endpoint keeps the endpoint's time; another subscriber has its own.
    expect(b.sleepMs('sub_a', 'ep_1', waitMs)).toBe(10_000);
    expect(b.sleepMs('sub_b', 'ep_9', 10_000)).toBe(10_000);
    // ep_1 woke and failed again: it goes behind the others.
    advance(10_000);
    expect(b.sleepMs('sub_a', 'ep_1', 10_000)).toBe(30_000);
  });

  it('keeps a reservation until a pending outcome (a token request decided by its deadline) is known', async () => {
    const { b } = budget({ burst: 1 });
    let tell: (o: TlsSendOutcome) => void = () => undefined;
    const later = new Promise<TlsSendOutcome>((resolve) => (tell = resolve));
    passOf(await b.pass('sub_a', [BAD])).settle({ kind: 'pending', later });
    // Still held: the one handshake of the burst is in flight.
    expect(
      await Promise.race([b.pass('sub_a', ['https://other.example/']), new Promise<'held'>((r) => setTimeout(() => r('held'), 30))]),
    ).toBe('held');
    tell(failedWith(b, BAD));
    await new Promise((r) => setImmediate(r));
    expect(await waitOf(b, 'sub_a', ['https://other.example/'])).toBe(10_000);
  });

  it('answers a send that needs no reservation at once: plain HTTP, and hosts known to verify', () => {
    const { b } = budget();
    expect(b.passNow('sub_a', ['http://plain.example/hook'])).toBeDefined();
    expect(b.passNow('sub_a', [GOOD])).toBeUndefined();
    b.handshake(GOOD_ORIGIN, true);
    expect(b.passNow('sub_a', [GOOD])).toBeDefined();
    expect(b.passNow('sub_a', [GOOD, 'https://token.example/'])).toBeUndefined();
  });

  it('puts parked endpoints to sleep at most a whole refill beyond the first', async () => {
    const { b } = budget(); // burst 2, one back every 10 s: at most 20 s beyond
    await fail(b, 'sub_a');
    await fail(b, 'sub_a');
    const times = Array.from({ length: 6 }, (_, i) => b.sleepMs('sub_a', `ep_${i}`, 10_000));
    expect(times).toEqual([10_000, 20_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it("does not make a subscriber's sends wait behind each other for a token URL while its token is in hand", async () => {
    const { b } = budget();
    const token = 'https://token.example/oauth';
    b.handshake(GOOD_ORIGIN, true);
    // The token host is not known to verify (forgotten, or reset once): each send sets a failed
    // handshake aside for it, but none waits for another's end, as none connects there.
    const one = passOf(await b.pass('sub_a', [GOOD, token], [token]));
    const two = await Promise.race([b.pass('sub_a', [GOOD, token], [token]), new Promise<'held'>((r) => setTimeout(() => r('held'), 30))]);
    expect(two).not.toBe('held');
    one.settle(ANSWERED);
    passOf(two as TlsPass).settle(ANSWERED);
    expect(urlsConnectedTo({ url: GOOD, auth: undefined })).toEqual([GOOD]);
  });

  it('waits for sends in flight no longer than the refill', async () => {
    let clock = 0;
    const b = new TlsHandshakeBudget({ burst: 1, perMinute: 60_000, now: () => clock }); // one back every 1 ms
    const inFlight = passOf(await b.pass('sub_a', [BAD]));
    clock += 0.5;
    const started = Date.now();
    // The reservation in flight is never settled here: the refill (0.5 ms away) lets the next one go.
    const next = b.pass('sub_a', ['https://other.example/']);
    clock += 1;
    passOf(await next).settle(OTHER);
    expect(Date.now() - started).toBeLessThan(1000);
    inFlight.settle(OTHER);
  });

  it('forgets the least recently used host past maxOrigins', async () => {
    const { b } = budget({ maxOrigins: 3 });
    // sub_x spends its burst: from now on a forgotten host makes it wait.
    await fail(b, 'sub_x', 'https://x1.example/');
    await fail(b, 'sub_x', 'https://x2.example/');
    b.handshake('https://a.example:443', true);
    b.handshake('https://b.example:443', true); // x1 is forgotten
    expect(await waitOf(b, 'sub_x', ['https://a.example/'])).toBe(0); // used: the most recent now
    b.handshake('https://c.example:443', true); // x2 is forgotten
    b.handshake('https://d.example:443', true); // b, not a: a was used after b was told
    expect(await waitOf(b, 'sub_x', ['https://a.example/'])).toBe(0);
    expect(await waitOf(b, 'sub_x', ['https://b.example/'])).toBeGreaterThan(0);
  });

  it("names a host as a URL and undici's connector options both do", () => {
    const url = new URL('https://Example.COM/x');
    expect(tlsOrigin(url.protocol, url.hostname, url.port)).toBe(tlsOrigin('https:', 'example.com', ''));
    expect(tlsOrigin('https:', 'example.com', '')).toBe('https://example.com:443');
    const v6 = new URL('https://[2001:DB8::1]:8443/x');
    expect(tlsOrigin(v6.protocol, v6.hostname, v6.port)).toBe('https://[2001:db8::1]:8443');
    // undici hands its connector the address without brackets.
    expect(tlsOrigin('https:', '2001:db8::1', 8443)).toBe('https://[2001:db8::1]:8443');
    expect(tlsOrigin('http:', 'example.com', '80')).toBeNull();
  });

  it('finds a failed handshake however the error that reports it was wrapped', () => {
    const err = new Error('socket hang up');
    expect(handshakeFailureOf(err)).toBeUndefined();
    markHandshakeFailed(err, BAD_ORIGIN);
    expect(handshakeFailureOf(err)).toBe(err);
    expect(handshakeFailureOf(new Error('token endpoint unreachable', { cause: err }))).toBe(err);
  });

  it('refuses a bound that could never let a handshake through', () => {
    expect(() => new TlsHandshakeBudget({ burst: 0, now: () => 0 })).toThrow(RangeError);
    expect(() => new TlsHandshakeBudget({ perMinute: 0, now: () => 0 })).toThrow(RangeError);
  });
});
