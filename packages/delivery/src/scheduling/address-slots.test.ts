import { HostResolver } from '../ssrf/host-resolver';
import type { LookupFn } from '../ssrf/types';
import { AddressSlots } from './address-slots';

describe('AddressSlots', () => {
  const woken: string[][] = [];
  const resolve: LookupFn = async (host) => {
    if (host === 'localhost') return [{ address: '::1', family: 6 }];
    if (host.endsWith('.wildcard.test')) return [{ address: '203.0.113.7', family: 4 }];
    if (host === 'mapped.test') return [{ address: '::ffff:203.0.113.7', family: 6 }];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  };
  const slots = (perAddress = 2, clock = () => 0) =>
    new AddressSlots({ perAddress, wake: (s) => woken.push(s), resolver: new HostResolver({ resolve, now: clock }) });
  const receiverOf = async (s: AddressSlots, url: string) => (await s.lookUpReceiver(new URL(url))).receiver;
  beforeEach(() => woken.splice(0));

  describe('lookUpReceiver', () => {
    it('folds every spelling of loopback on one port into one receiver', async () => {
      const s = slots();
      const keys = await Promise.all(
        [
          'http://127.0.0.1:8080/a',
          'http://localhost:8080/b',
          'http://[::1]:8080/c',
          'http://127.0.0.2:8080/',
          'http://[::ffff:127.0.0.1]:8080/',
          'http://0.0.0.0:8080/',
        ].map((u) => receiverOf(s, u)),
      );
      expect(new Set(keys)).toEqual(new Set(['loopback:8080']));
      expect(await receiverOf(s, 'http://127.0.0.1:8081/')).toBe('loopback:8081');
    });

    it('keys hostnames by the address they resolve to, so wildcard DNS names are one receiver', async () => {
      const s = slots();
      const names = await Promise.all(['a', 'b', 'zz-1'].map((n) => receiverOf(s, `https://${n}.wildcard.test/hook`)));
      expect(new Set(names)).toEqual(new Set(['203.0.113.7:443']));
      expect(await receiverOf(s, 'https://mapped.test/')).toBe('203.0.113.7:443');
      expect(await receiverOf(s, 'http://203.0.113.7/')).toBe('203.0.113.7:80');
    });

    it('keys a name that does not resolve by the name, and hands back its DNS failure', async () => {
      const looked = await slots().lookUpReceiver(new URL('https://No-Such.Example/'));
      expect(looked.receiver).toBe('name:no-such.example:443');
      expect(looked.dnsError).toMatchObject({ code: 'ENOTFOUND' });
    });

    it("keeps a resolved address for its resolver's cacheMs", async () => {
      let calls = 0;
      let now = 0;
      const counting = new AddressSlots({
        perAddress: 1,
        wake: () => undefined,
        resolver: new HostResolver({
          now: () => now,
          cacheMs: 1000,
          resolve: async () => (calls++, [{ address: '198.51.100.1', family: 4 }]),
        }),
      });
      await receiverOf(counting, 'https://x.test/');
      await receiverOf(counting, 'https://x.test/');
      expect(calls).toBe(1);
      now = 1001;
      await receiverOf(counting, 'https://x.test/');
      expect(calls).toBe(2);
    });
  });

  describe('slots', () => {
    it('hands out perAddress slots, then none until one is released; a release twice frees one', () => {
      const s = slots(2);
      const a = s.tryAcquire('r', 's');
      const b = s.tryAcquire('r', 's');
      expect(a && b).toBeTruthy();
      expect(s.tryAcquire('r', 's')).toBeNull();
      expect(s.tryAcquire('other', 's')).not.toBeNull();
      a!();
      a!();
      expect(s.inFlight('r')).toBe(1);
      expect(s.tryAcquire('r', 's')).not.toBeNull();
      expect(s.tryAcquire('r', 's')).toBeNull();
    });

    it('wakes one parked sleeper per freed slot, first parked first', () => {
      const s = slots(1);
      const held = s.tryAcquire('r', 's')!;
      s.parked('r', 'e|s|1');
      s.parked('r', 'e|s|2');
      s.parked('r', 'e|s|1');
      held();
      expect(woken).toEqual([['e|s|1']]);
      s.tryAcquire('r', 's')!();
      expect(woken).toEqual([['e|s|1'], ['e|s|2']]);
    });

    it("wakes the parked endpoints' subscribers in turn, not one subscriber's hundred before another's one", () => {
      const s = slots(1);
      let held = s.tryAcquire('shared-cdn:443', 's')!;
      for (let i = 1; i <= 100; i++) s.parked('shared-cdn:443', `e|sub_attacker|${i}`);
      s.parked('shared-cdn:443', 'e|sub_victim|1');
      s.parked('shared-cdn:443', 'e|sub_victim|2');
      const order: string[] = [];
      for (let i = 0; i < 6; i++) {
        held();
        order.push(...(woken.pop() ?? []));
        held = s.tryAcquire('shared-cdn:443', 's')!;
      }
      // Each subscriber's own endpoints first come first; the subscribers alternate.
      expect(order).toEqual([
        'e|sub_attacker|1',
        'e|sub_victim|1',
        'e|sub_attacker|2',
        'e|sub_victim|2',
        'e|sub_attacker|3',
        'e|sub_attacker|4',
      ]);
    });

    it('holds a subscriber to an equal share of an address while another wants it, and to none when it is alone', () => {
      const s = slots(4);
      // Alone, one subscriber may hold every slot.
      const attacker = [1, 2, 3, 4].map(() => s.tryAcquire('shared-cdn:443', 'sub_attacker'));
      expect(attacker.every(Boolean)).toBe(true);
      // Another subscriber finds the address full and parks.
      expect(s.tryAcquire('shared-cdn:443', 'sub_victim')).toBeNull();
      s.parked('shared-cdn:443', 'e|sub_victim|1');
      // The slot the attacker frees is not the attacker's again: it holds 3, over half of 4.
      attacker[0]!();
      expect(woken).toEqual([['e|sub_victim|1']]);
      expect(s.tryAcquire('shared-cdn:443', 'sub_attacker')).toBeNull();
      const victim = s.tryAcquire('shared-cdn:443', 'sub_victim');
      expect(victim).not.toBeNull();
      // Down to its share (2), the attacker waits for its own slots; the victim may take up to 2.
      attacker[1]!();
      expect(s.tryAcquire('shared-cdn:443', 'sub_attacker')).toBeNull();
      expect(s.tryAcquire('shared-cdn:443', 'sub_victim')).not.toBeNull();
      expect(s.inFlight('shared-cdn:443')).toBe(4);
      expect(victim).not.toBeNull();
    });

    it('gives an attempt back the slot it let go for a fresh token, whatever its share, if the address has room', () => {
      const s = slots(4);
      const attacker = [1, 2, 3].map(() => s.tryAcquire('shared-cdn:443', 'sub_attacker')!);
      expect(s.tryAcquire('shared-cdn:443', 'sub_victim')).not.toBeNull();
      // Its 401: it lets a slot go to fetch a token; over its share, a new take is refused, the retake is not.
      attacker[0]!();
      expect(s.tryAcquire('shared-cdn:443', 'sub_attacker')).toBeNull();
      expect(s.retake('shared-cdn:443', 'sub_attacker')).not.toBeNull();
      expect(s.retake('shared-cdn:443', 'sub_attacker')).toBeNull();
    });

    it('wakes a sleeper at once when a slot freed while it was being parked', () => {
      const s = slots(1);
      const held = s.tryAcquire('r', 's')!;
      held(); // freed before the park landed: nobody was waiting yet
      s.parked('r', 'e|s|late');
      expect(woken).toEqual([['e|s|late']]);
    });

    it('hands every parked sleeper back when the worker stops', () => {
      const s = slots(1);
      s.tryAcquire('a', 's');
      s.tryAcquire('b', 's');
      s.parked('a', 'e|s|1');
      s.parked('b', 'e|s|2');
      s.parked('b', 'e|s|1');
      expect(s.drainSleepers().sort()).toEqual(['e|s|1', 'e|s|2']);
      expect(s.drainSleepers()).toEqual([]);
    });
  });
});
