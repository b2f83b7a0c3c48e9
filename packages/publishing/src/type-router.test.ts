import { matchesAny } from '@hookrelay/contracts';
import { routerOf, TypeRouter } from './type-router';

describe('TypeRouter', () => {
  // A small alphabet, so that patterns and types meet often: every rule of matchesEventType is hit.
  const words = ['a', 'b', '*'];
  function* patterns(maxSegments: number, prefix: string[] = []): Generator<string> {
    if (prefix.length > 0) yield prefix.join('.');
    if (prefix.length === maxSegments) return;
    for (const w of words) yield* patterns(maxSegments, [...prefix, w]);
  }
  const allPatterns = [...patterns(3)];
  const allTypes = allPatterns.filter((p) => !p.includes('*')).concat(['a.b.a.b', 'c', 'a.c.b']);

  it('answers what matchesAny answers, endpoint by endpoint and in their order', () => {
    // Endpoints holding overlapping sets of patterns, `*` alone among them once.
    const endpoints = Array.from({ length: 25 }, (_, i) => ({
      id: `ep${i}`,
      eventTypes: i === 7 ? ['*'] : allPatterns.filter((_, j) => (j * 7 + i * 3) % 11 === 0),
    }));
    const router = new TypeRouter(endpoints);
    for (const type of allTypes) {
      const expected = endpoints.filter((e) => matchesAny(e.eventTypes, type)).map((e) => e.id);
      expect({ type, ids: router.route(type, { steps: 0 }).map((e) => e.id) }).toEqual({ type, ids: expected });
    }
  });

  it('checks a type only against patterns that could match its length, and answers a type seen before for nothing', () => {
    // 100 endpoints of 100 patterns of 16 segments each: a two-segment type never meets them.
    const long = (n: number) => `${'*.'.repeat(14)}x.z${n}`;
    const endpoints = Array.from({ length: 100 }, (_, e) => ({
      eventTypes: [...Array.from({ length: 99 }, (_, p) => long(e * 100 + p)), 'custom.*'],
    }));
    const router = new TypeRouter(endpoints);
    const first = { steps: 0 };
    expect(router.route('custom.x', first)).toHaveLength(100);
    // Its 100 endpoints, the one distinct trailing pattern (custom.*) and its one compared segment.
    expect(first.steps).toBe(100 + 3);
    const again = { steps: 0 };
    expect(router.route('custom.x', again)).toHaveLength(100);
    expect(again.steps).toBe(0);
    // A type as long as the long patterns pays for each of them, stopping at the first mismatch.
    const deep = { steps: 0 };
    expect(router.route(`${'y.'.repeat(14)}x.q`, deep)).toHaveLength(0);
    expect(deep.steps).toBe(100 + 9900 * 17 + 3);
  });

  it('counts every endpoint of a type not seen before, though no pattern is checked', () => {
    const router = new TypeRouter(Array.from({ length: 10_000 }, () => ({ eventTypes: ['*'] })));
    const cost = { steps: 0 };
    for (let i = 0; i < 201; i++) expect(router.route(`custom.t${i}`, cost)).toHaveLength(10_000);
    // Past the publisher's budget (MAX_ROUTING_STEPS, 2,000,000) by the 201st new type of a batch.
    expect(cost.steps).toBe(201 * 10_000);
    router.route('custom.t0', cost);
    expect(cost.steps).toBe(201 * 10_000);
  });

  it('routes a list rebuilt after endpoints changed as a router built afresh does: same endpoints, same steps', () => {
    type Routed = { id: string; status: string; eventTypes: readonly string[]; description?: string };
    // As the store hands them out: each endpoint read anew (new arrays) only when it changed.
    const read = (e: Routed): Routed => Object.freeze(JSON.parse(JSON.stringify(e)) as Routed);
    let endpoints = Array.from({ length: 20 }, (_, i) =>
      read({ id: `ep${i}`, status: 'active', eventTypes: i === 4 ? ['*'] : allPatterns.filter((_, j) => (j * 5 + i * 3) % 7 === 0) }),
    );
    const change = (id: string, to: Partial<Routed>) => (endpoints = endpoints.map((e) => (e.id === id ? read({ ...e, ...to }) : e)));
    const expectSameAsFresh = () => {
      const rebuilt = routerOf(Object.freeze([...endpoints]));
      const fresh = new TypeRouter(endpoints.map(read).filter((e) => e.status === 'active'));
      for (const type of allTypes) {
        const [a, b] = [{ steps: 0 }, { steps: 0 }];
        const ids = (routed: readonly Routed[]) => routed.map((e) => e.id);
        expect({ type, ids: ids(rebuilt.route(type, a)), steps: a.steps }).toEqual({
          type,
          ids: ids(fresh.route(type, b)),
          steps: b.steps,
        });
      }
    };
    expectSameAsFresh();
    // New patterns, one of them another endpoint's too (steps count a shared pattern once).
    change('ep3', { eventTypes: ['b.b.b', 'a.*', endpoints[5]!.eventTypes[0]!] });
    expectSameAsFresh();
    // A description changed: the same patterns, read anew.
    change('ep7', { description: 'x' });
    expectSameAsFresh();
    change('ep9', { status: 'disabled' });
    expectSameAsFresh();
    endpoints = endpoints.filter((e) => e.id !== 'ep11');
    expectSameAsFresh();
    endpoints = [...endpoints, read({ id: 'ep20', status: 'active', eventTypes: ['a.*', 'b'] })];
    expectSameAsFresh();
    // Enough new patterns over time that the patterns split before are split again for the list.
    for (let round = 0; round < 20; round++) {
      change('ep12', { eventTypes: Array.from({ length: 100 }, (_, i) => `c.r${round}.p${i}`) });
      expectSameAsFresh();
    }
    change('ep12', { eventTypes: ['a.*', 'b.a'] });
    expectSameAsFresh();
    change('ep9', { status: 'active', eventTypes: ['*', 'a.b'] });
    expectSameAsFresh();
  });

  it('is built once per list of endpoints', () => {
    const list = Object.freeze([
      { eventTypes: ['a.*'], status: 'active' },
      { eventTypes: ['a.*'], status: 'disabled' },
    ]);
    expect(routerOf(list)).toBe(routerOf(list));
    expect(routerOf([...list])).not.toBe(routerOf(list));
    // Only the active endpoints are routed to.
    expect(routerOf(list).route('a.b', { steps: 0 })).toEqual([list[0]]);
  });
});
