import { bodyForScheme } from '@hookrelay/signing';
import { BYTES_FROM_CHARS, SCHEME_BODY_ENTRY_BYTES, SchemeBodies } from './scheme-bodies';

const X_SIGNATURE = { scheme: 'x-signature' } as const;
const HUB = { scheme: 'x-hub-signature', algorithm: 'sha256', prefix: true } as const;
// Each event its own subscriber's unless given: the bound's share per subscriber is tested apart.
const event = (id: string, payload: unknown, subscriberId = `sub_${id}`) => ({ id, payload: JSON.stringify(payload), subscriberId });
/** What a re-serialised body of `chars` characters counts against the bound. */
const kept = (chars: number) => chars + SCHEME_BODY_ENTRY_BYTES;

describe('SchemeBodies', () => {
  it("makes an event's x-signature body once, however many endpoints and attempts send it, and the same as bodyForScheme", () => {
    const make = jest.fn(bodyForScheme);
    const bodies = new SchemeBodies({ maxBytes: 4096, make });
    const e = event('evt_1', { msg: 'héllo 😀', n: 1.5 });
    const first = bodies.bodyFor(X_SIGNATURE, e);
    for (let i = 0; i < 40; i++) expect(bodies.bodyFor(X_SIGNATURE, e)).toBe(first);
    expect(make).toHaveBeenCalledTimes(1);
    expect(first).toBe(bodyForScheme(X_SIGNATURE, e.payload));
    expect(first).toBe('{"msg": "h\\u00e9llo \\ud83d\\ude00", "n": 1.5}');
  });

  it('sends other schemes the payload as stored, keeping nothing', () => {
    const make = jest.fn(bodyForScheme);
    const bodies = new SchemeBodies({ maxBytes: 1024, make });
    const e = event('evt_2', { a: 1 });
    expect(bodies.bodyFor(HUB, e)).toBe(e.payload);
    expect(make).not.toHaveBeenCalled();
    expect(bodies.size).toBe(0);
  });

  it('keeps at most its bound in bytes, dropping the least recently used, and does not keep a body over a quarter of it', () => {
    const make = jest.fn(bodyForScheme);
    const bound = 4 * kept(24) + 4;
    const bodies = new SchemeBodies({ maxBytes: bound, make });
    const events = ['a', 'b', 'c', 'd'].map((k) => event(`evt_${k}`, { k: k.repeat(15) })); // 24 B each
    for (const e of events) bodies.bodyFor(X_SIGNATURE, e);
    expect(bodies.size).toBe(4 * kept(24));
    bodies.bodyFor(X_SIGNATURE, events[0]!); // used again: now the newest
    bodies.bodyFor(X_SIGNATURE, event('evt_e', { k: 'e'.repeat(15) })); // evicts b, the oldest
    expect(bodies.size).toBe(4 * kept(24));
    make.mockClear();
    bodies.bodyFor(X_SIGNATURE, events[0]!);
    expect(make).not.toHaveBeenCalled();
    bodies.bodyFor(X_SIGNATURE, events[1]!);
    expect(make).toHaveBeenCalledTimes(1);
    const big = event('evt_big', { k: 'x'.repeat(30) }); // kept(39) > bound / 4
    bodies.bodyFor(X_SIGNATURE, big);
    bodies.bodyFor(X_SIGNATURE, big);
    expect(make).toHaveBeenCalledTimes(3);
    expect(bodies.size).toBeLessThanOrEqual(bound);
  });

  it("counts a body's entry beside its characters: tiny bodies fill the bound, not millions of them", () => {
    const make = jest.fn(bodyForScheme);
    const bodies = new SchemeBodies({ maxBytes: 100_000, make });
    // 10,000 bodies of `{}`: 20 KB of characters, ~2.3 MB of heap.
    for (let i = 0; i < 10_000; i++) bodies.bodyFor(X_SIGNATURE, event(`evt_${i}`, {}, 'sub_tiny'));
    expect(bodies.size).toBeLessThanOrEqual(100_000);
    make.mockClear();
    bodies.bodyFor(X_SIGNATURE, event('evt_9999', {}, 'sub_tiny'));
    expect(make).not.toHaveBeenCalled();
    bodies.bodyFor(X_SIGNATURE, event('evt_0', {}, 'sub_tiny'));
    expect(make).toHaveBeenCalledTimes(1);
  });

  it('hands out a payload of BYTES_FROM_CHARS characters or more as its UTF-8 bytes, encoded once per event, for every scheme', () => {
    const make = jest.fn(bodyForScheme);
    const bodies = new SchemeBodies({ maxBytes: 8 * 1024 * 1024, maxEncodedBytes: 8 * 1024 * 1024, make });
    const large = event('evt_large', { text: 'café ☕ 😀 '.repeat(BYTES_FROM_CHARS / 8) });
    expect(large.payload.length).toBeGreaterThanOrEqual(BYTES_FROM_CHARS);
    const raw = bodies.bodyFor(HUB, large);
    expect(raw).toEqual(Buffer.from(large.payload));
    for (let i = 0; i < 10; i++) expect(bodies.bodyFor(HUB, large)).toBe(raw);
    const reserialised = bodies.bodyFor(X_SIGNATURE, large);
    expect(Buffer.isBuffer(reserialised) && reserialised.toString('utf8')).toBe(bodyForScheme(X_SIGNATURE, large.payload));
    expect(bodies.bodyFor(X_SIGNATURE, large)).toBe(reserialised);
    expect(make).toHaveBeenCalledTimes(1);
    expect(bodies.size).toBe(raw.length + kept(reserialised.length));
    // One character short of it: the stored text, nothing kept.
    const small = { id: 'evt_small', payload: 'x'.repeat(BYTES_FROM_CHARS - 1), subscriberId: 'sub_small' };
    expect(bodies.bodyFor(HUB, small)).toBe(small.payload);
    expect(bodies.size).toBe(raw.length + kept(reserialised.length));
  });

  it("keeps encoded payloads apart: other events' large payloads never push out a re-serialised body", () => {
    const make = jest.fn(bodyForScheme);
    const bodies = new SchemeBodies({ maxBytes: 1024 * 1024, maxEncodedBytes: 1024 * 1024, make });
    const zenduty = event('evt_zenduty', { text: '😀'.repeat(BYTES_FROM_CHARS) });
    const first = bodies.bodyFor(X_SIGNATURE, zenduty);
    // Forty other large events, each encoded once: 4 MB through a 1 MB cache of their own.
    for (let i = 0; i < 40; i++) bodies.bodyFor(HUB, { id: `evt_other${i}`, payload: 'x'.repeat(100_000), subscriberId: `sub_other${i}` });
    expect(bodies.bodyFor(X_SIGNATURE, zenduty)).toBe(first);
    expect(make).toHaveBeenCalledTimes(1);
  });

  it("makes room from a subscriber holding over a quarter of the bound: its own rotation pushes out its own, never the others'", () => {
    const make = jest.fn(bodyForScheme);
    const bodies = new SchemeBodies({ maxBytes: 4000, make });
    // Three other subscribers' bodies of ~110 B each (~366 counted), then one subscriber's 40 events in rotation.
    const others = ['x', 'y', 'z'].map((k) => event(`evt_${k}`, { k: k.repeat(100) }, `sub_${k}`));
    for (const e of others) bodies.bodyFor(X_SIGNATURE, e);
    const rotation = Array.from({ length: 40 }, (_, i) => event(`evt_r${i}`, { k: String(i).repeat(100 / String(i).length) }, 'sub_rot'));
    for (let round = 0; round < 3; round++) for (const e of rotation) bodies.bodyFor(X_SIGNATURE, e);
    expect(bodies.size).toBeLessThanOrEqual(4000);
    make.mockClear();
    for (const e of others) bodies.bodyFor(X_SIGNATURE, e);
    expect(make).not.toHaveBeenCalled();
    // The rotation keeps what room the others leave it, its newest: its oldest went.
    bodies.bodyFor(X_SIGNATURE, rotation[39]!);
    bodies.bodyFor(X_SIGNATURE, rotation[38]!);
    expect(make).not.toHaveBeenCalled();
    bodies.bodyFor(X_SIGNATURE, rotation[0]!);
    expect(make).toHaveBeenCalledTimes(1);
  });

  it('lets a subscriber alone use the whole bound: its fan-out of three large events, attempted in turn, is made once each', () => {
    const make = jest.fn(bodyForScheme);
    const bodies = new SchemeBodies({ maxBytes: 4000, make });
    // Three bodies of ~210 B (~466 counted): together over a quarter of the bound, well within it.
    const three = ['a', 'b', 'c'].map((k) => event(`evt_${k}`, { k: k.repeat(200) }, 'sub_alone'));
    for (let endpoint = 0; endpoint < 40; endpoint++) for (const e of three) bodies.bodyFor(X_SIGNATURE, e);
    expect(make).toHaveBeenCalledTimes(3);
  });
});
