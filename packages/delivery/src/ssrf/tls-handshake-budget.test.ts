import { DEFAULT_TLS_HANDSHAKE_BUDGET, TlsHandshakeBudget, tlsOrigin } from './tls-handshake-budget';

const BAD = 'https://bad.example:8443/hook';
const GOOD = 'https://good.example/hook';

function budget(options: { burst?: number; perMinute?: number; maxOrigins?: number } = {}) {
  let clock = 1_000_000;
  const b = new TlsHandshakeBudget({ burst: 2, perMinute: 6, ...options, now: () => clock });
  return { b, advance: (ms: number) => (clock += ms) };
}

/** A pass that failed its handshake, as a send that reached a hostile chain settles it. */
async function fail(b: TlsHandshakeBudget, subscriberId: string, url = BAD): Promise<void> {
  const pass = await b.pass(subscriberId, [url]);
  if ('waitMs' in pass) throw new Error(`no pass: wait ${pass.waitMs} ms`);
  pass.settle(true);
}

async function waitOf(b: TlsHandshakeBudget, subscriberId: string, urls: string[]): Promise<number> {
  const pass = await b.pass(subscriberId, urls);
  if ('waitMs' in pass) return pass.waitMs;
  pass.settle(false);
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

  it('sets a handshake aside for each send in flight to a host not known to verify, and gives it back when it did not fail', async () => {
    const { b } = budget();
    const one = await b.pass('sub_a', ['https://one.example/']);
    const two = await b.pass('sub_a', ['https://two.example/']);
    // Both still in flight: a third side by side would overrun the burst of 2.
    expect(await b.pass('sub_a', ['https://three.example/'])).toEqual({ waitMs: 10_000 });
    if ('waitMs' in one || 'waitMs' in two) throw new Error('expected passes');
    one.settle(false);
    one.settle(true); // settled once: the second call changes nothing
    expect(await waitOf(b, 'sub_a', ['https://three.example/'])).toBe(0);
    two.settle(true);
    expect(await waitOf(b, 'sub_a', ['https://four.example/'])).toBe(0);
    await fail(b, 'sub_a', 'https://five.example/');
    expect(await waitOf(b, 'sub_a', ['https://six.example/'])).toBeGreaterThan(0);
  });

  it('holds the sends behind the first to a host not known to verify until its handshake ends', async () => {
    const { b } = budget({ burst: 1 });
    const first = await b.pass('sub_a', [GOOD]);
    let behindGot: Awaited<ReturnType<TlsHandshakeBudget['pass']>> | undefined;
    const behind = b.pass('sub_a', [GOOD]).then((p) => (behindGot = p));
    await new Promise((r) => setImmediate(r));
    expect(behindGot).toBeUndefined();
    // The connector saw the first one's handshake verify: the one behind goes without setting any aside.
    b.handshake('https://good.example:443', true);
    await behind;
    expect(behindGot).toBeDefined();
    expect(behindGot && 'settle' in behindGot).toBe(true);
    if ('waitMs' in first) throw new Error('expected a pass');
    first.settle(false);
    // The burst of 1 is whole again: two failures on another host fit one at a time only.
    await fail(b, 'sub_a');
    expect(await waitOf(b, 'sub_a', [BAD])).toBeGreaterThan(0);
  });

  it('lets the sends behind a failed handshake go one at a time, each with a handshake of its own to spend', async () => {
    const { b } = budget({ burst: 2 });
    const first = await b.pass('sub_a', [BAD]);
    const got: Array<Awaited<ReturnType<TlsHandshakeBudget['pass']>>> = [];
    const behind = [1, 2, 3].map(() => b.pass('sub_a', [BAD]).then((p) => got.push(p)));
    b.handshake('https://bad.example:8443', false);
    if ('waitMs' in first) throw new Error('expected a pass');
    first.settle(true);
    // One of them tries next (the last handshake left), the others behind it.
    await new Promise((r) => setImmediate(r));
    expect(got).toHaveLength(1);
    const second = got[0]!;
    if ('waitMs' in second) throw new Error('expected a pass');
    second.settle(true);
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

  it('lets an over-budget subscriber reach plain HTTP and origins whose last handshake verified', async () => {
    const { b } = budget();
    await fail(b, 'sub_a');
    await fail(b, 'sub_a');
    expect(await waitOf(b, 'sub_a', ['http://plain.example/hook'])).toBe(0);
    expect(await waitOf(b, 'sub_a', [GOOD])).toBeGreaterThan(0); // never reached here: not known to verify
    b.handshake('https://good.example:443', true);
    expect(await waitOf(b, 'sub_a', [GOOD])).toBe(0);
    // Every host of the send counts: a verified receiver with an unverified token URL waits.
    expect(await waitOf(b, 'sub_a', [GOOD, BAD])).toBeGreaterThan(0);
    // A verified origin that then fails is unverified again.
    b.handshake('https://good.example:443', false);
    expect(await waitOf(b, 'sub_a', [GOOD])).toBeGreaterThan(0);
  });

  it('charges a failure on a host that had verified after the fact', async () => {
    const { b } = budget();
    b.handshake('https://good.example:443', true);
    for (let i = 0; i < 2; i++) await fail(b, 'sub_a', GOOD);
    b.handshake('https://good.example:443', false);
    expect(await waitOf(b, 'sub_a', [GOOD])).toBe(10_000);
  });

  it('forgets the least recently told origin past maxOrigins', async () => {
    const { b } = budget({ maxOrigins: 2 });
    await fail(b, 'sub_a');
    await fail(b, 'sub_a');
    b.handshake(tlsOrigin('https:', 'a.example', '')!, true);
    b.handshake(tlsOrigin('https:', 'b.example', '')!, true);
    b.handshake(tlsOrigin('https:', 'a.example', '')!, true); // told again: the most recent
    b.handshake(tlsOrigin('https:', 'c.example', '')!, true);
    expect(await waitOf(b, 'sub_a', ['https://a.example/'])).toBe(0);
    expect(await waitOf(b, 'sub_a', ['https://c.example/'])).toBe(0);
    expect(await waitOf(b, 'sub_a', ['https://b.example/'])).toBeGreaterThan(0);
  });

  it("names an origin as a URL and undici's connector options both do", () => {
    const url = new URL('https://Example.COM/x');
    expect(tlsOrigin(url.protocol, url.hostname, url.port)).toBe(tlsOrigin('https:', 'example.com', ''));
    expect(tlsOrigin('https:', 'example.com', '')).toBe('https://example.com:443');
    const v6 = new URL('https://[::1]:8443/x');
    expect(tlsOrigin(v6.protocol, v6.hostname, v6.port)).toBe('https://[::1]:8443');
    expect(tlsOrigin('http:', 'example.com', '80')).toBeNull();
  });

  it('refuses a bound that could never let a handshake through', () => {
    expect(() => new TlsHandshakeBudget({ burst: 0, now: () => 0 })).toThrow(RangeError);
    expect(() => new TlsHandshakeBudget({ perMinute: 0, now: () => 0 })).toThrow(RangeError);
  });
});
