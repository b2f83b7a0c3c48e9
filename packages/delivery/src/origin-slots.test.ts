import { OriginSlots, originOf } from './origin-slots';

describe('OriginSlots', () => {
  it('grants up to perOrigin slots per origin, independently for each origin', async () => {
    const slots = new OriginSlots({ perOrigin: 2, waitMs: 10 });
    expect(await slots.acquire('https://a.test')).toEqual(expect.any(Function));
    expect(await slots.acquire('https://a.test')).toEqual(expect.any(Function));
    expect(await slots.acquire('https://b.test')).toEqual(expect.any(Function));
    expect(slots.inFlight('https://a.test')).toBe(2);
    expect(await slots.acquire('https://a.test')).toBeNull();
  });

  it('hands a released slot to an attempt waiting for it', async () => {
    const slots = new OriginSlots({ perOrigin: 1, waitMs: 1000 });
    const first = await slots.acquire('o');
    const waiting = slots.acquire('o');
    first?.();
    first?.(); // a second release gives nothing back twice
    const second = await waiting;
    expect(second).toEqual(expect.any(Function));
    expect(slots.inFlight('o')).toBe(1);
    second?.();
    expect(slots.inFlight('o')).toBe(0);
  });

  describe('when a wait runs out', () => {
    it('defers at once for congestedMs, then waits again', async () => {
      let now = 0;
      const slots = new OriginSlots({ perOrigin: 1, waitMs: 5, congestedMs: 100, now: () => now });
      const held = await slots.acquire('o');
      expect(await slots.acquire('o')).toBeNull(); // waited 5 ms
      const started = Date.now();
      expect(await slots.acquire('o')).toBeNull(); // saturated: no wait
      expect(Date.now() - started).toBeLessThan(5);
      now = 101;
      const probe = slots.acquire('o');
      held?.();
      expect(await probe).toEqual(expect.any(Function));
    });
  });

  it('keys origins as undici pools do', () => {
    expect(originOf('https://Example.test:443/hooks?x=1')).toBe('https://example.test');
    expect(originOf('http://127.0.0.1:8080/a')).toBe('http://127.0.0.1:8080');
  });
});
