import type { StoredEvent } from '@hookrelay/contracts';
import { bytesOf, ParsedEvents } from './parsed-events';

// Each event its own subscriber's unless given: the bound's share per subscriber is tested apart.
const event = (id: string, payloadChars: number, subscriberId = `sub_${id}`): StoredEvent => ({
  id,
  subscriberId,
  type: 'custom.t',
  payload: JSON.stringify({ k: 'x'.repeat(payloadChars - 10) }),
  createdAt: 1,
});

describe('ParsedEvents', () => {
  it('answers a kept event by its id, as the same object', () => {
    const events = new ParsedEvents(10_000);
    const e = event('evt_1', 100);
    events.keep(e);
    expect(events.get('evt_1')).toBe(e);
    expect(events.get('evt_2')).toBeUndefined();
  });

  it('keeps at most its bound in bytes, dropping the least recently used first', () => {
    const one = bytesOf(event('evt_a', 100));
    const events = new ParsedEvents(one * 4);
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((k) => event(`evt_${k}`, 100)) as [
      StoredEvent,
      StoredEvent,
      StoredEvent,
      StoredEvent,
      StoredEvent,
    ];
    for (const x of [a, b, c, d]) events.keep(x);
    expect(events.size).toBe(one * 4);
    events.get('evt_a'); // used again: now the newest
    events.keep(e); // makes room by b, the least recently used
    expect(events.size).toBe(one * 4);
    expect(events.get('evt_b')).toBeUndefined();
    for (const x of [a, c, d, e]) expect(events.get(x.id)).toBe(x);
    for (let i = 0; i < 100; i++) {
      events.keep(event(`evt_n${i}`, 50 + i));
      expect(events.size).toBeLessThanOrEqual(one * 4);
    }
  });

  it('does not keep an event over a quarter of its bound', () => {
    const events = new ParsedEvents(4000);
    events.keep(event('evt_small', 100));
    const sizeBefore = events.size;
    events.keep(event('evt_big', 600)); // ~1,300 B > 4,000 / 4
    expect(events.get('evt_big')).toBeUndefined();
    expect(events.size).toBe(sizeBefore);
    expect(events.get('evt_small')).toBeDefined();
  });

  it("makes room from a subscriber over a quarter of the bound, so its rotation never pushes out another's", () => {
    // Ids and subscribers of the same lengths: every event weighs the same.
    const mine = (i: number) => event(`evt_m${String(i).padStart(2, '0')}`, 100, 'sub_many');
    const one = bytesOf(mine(0));
    const events = new ParsedEvents(one * 8);
    const other = event('evt_oth', 100, 'sub_othr');
    expect(bytesOf(other)).toBe(one);
    events.keep(other);
    for (let i = 0; i < 50; i++) events.keep(mine(i));
    expect(events.get('evt_oth')).toBe(other);
    // What room the other leaves it (seven), its newest.
    expect(events.size).toBe(one * 8);
    expect(events.get('evt_m49')).toBeDefined();
    expect(events.get('evt_m43')).toBeDefined();
    expect(events.get('evt_m42')).toBeUndefined();
  });

  it('counts two bytes a character, what V8 may hold a non-Latin-1 string in', () => {
    const e = { ...event('evt_1', 100, 'sub_1'), payload: '"☕☕"' };
    expect(bytesOf(e)).toBe(2 * (4 + 5 + 5 + 8) + 64);
  });
});
