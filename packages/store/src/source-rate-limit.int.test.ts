import { newId } from '@hookrelay/contracts';
import { watchCommands } from '@hookrelay/testing';
import { createStore } from './index';
import { useTestStore } from './test-store';

/** A clock at the start of a minute, so a test's seconds stay in one minute. */
const minuteStart = () => 1_900_000_000_000 - (1_900_000_000_000 % 60_000);
const WIDE = { perSecond: 1000, perMinute: 100_000 };

describe("a source's rate limit", () => {
  const db = useTestStore('source-rate');

  it("marks each window's first refusal once, whichever window refused the requests before it", async () => {
    let clock = minuteStart();
    const store = createStore({ redis: db.redis, prefix: db.prefix, now: () => clock });
    const source = { id: newId('src'), subscriberId: 'sub_a' };
    const limits = { perSecond: 2, perMinute: 3 };
    const hit = async () => {
      const verdict = await store.sources.hitRateLimit(source, limits, WIDE);
      return verdict ? `${verdict.window}${verdict.first ? ' first' : ''}` : 'ok';
    };
    // Second 0: the fourth request passes the minute's count too, but the second's limit refused it.
    const second0 = [await hit(), await hit(), await hit(), await hit()];
    clock += 1000;
    // Second 1: the minute's own refusals start, and its first is marked; then the second's.
    const second1 = [await hit(), await hit(), await hit()];
    expect(second0).toEqual(['ok', 'ok', 'second first', 'second']);
    expect(second1).toEqual(['minute first', 'minute', 'second first']);
  });
});

describe("a subscriber's ceiling across its sources", () => {
  const db = useTestStore('source-rate-subscriber');

  it("counts every request to any of the subscriber's sources, marks its windows' first refusals once, and leaves other subscribers alone", async () => {
    let clock = minuteStart();
    const store = createStore({ redis: db.redis, prefix: db.prefix, now: () => clock });
    const sources = Array.from({ length: 5 }, () => ({ id: newId('src'), subscriberId: 'sub_many' }));
    const other = { id: newId('src'), subscriberId: 'sub_other' };
    const subscriberLimits = { perSecond: 3, perMinute: 5 };
    const hit = async (source: { id: string; subscriberId: string }) => {
      const v = await store.sources.hitRateLimit(source, WIDE, subscriberLimits);
      return v ? `${v.scope} ${v.window} ${v.limit}${v.first ? ' first' : ''}` : 'ok';
    };
    // Each source is far under its own limit; together they pass the subscriber's.
    const second0 = [];
    for (const s of sources) second0.push(await hit(s));
    expect(second0).toEqual(['ok', 'ok', 'ok', 'subscriber second 3 first', 'subscriber second 3']);
    expect(await hit(other)).toBe('ok');
    clock += 1000;
    // The fourth and fifth counted though refused: the minute's 5 are spent.
    expect([await hit(sources[0]!), await hit(sources[1]!)]).toEqual(['subscriber minute 5 first', 'subscriber minute 5']);
    expect((await store.sources.hitRateLimit(sources[2]!, WIDE, subscriberLimits))?.retryAfterSeconds).toBe(59);
  });

  it("does not let one source's flood past its own limit spend the ceiling its other sources share", async () => {
    const store = createStore({ redis: db.redis, prefix: db.prefix, now: minuteStart });
    const flooded = { id: newId('src'), subscriberId: 'sub_flood' };
    const quiet = { id: newId('src'), subscriberId: 'sub_flood' };
    const own = { perSecond: 5, perMinute: 1000 };
    const ceiling = { perSecond: 20, perMinute: 1000 };
    const verdicts = [];
    for (let i = 0; i < 60; i++) verdicts.push(await store.sources.hitRateLimit(flooded, own, ceiling));
    // Its own 5 admitted, the other 55 refused by its own limit, not the subscriber's.
    expect(verdicts.filter((v) => v === null)).toHaveLength(5);
    expect(verdicts.filter((v) => v?.scope === 'subscriber')).toEqual([]);
    // The subscriber counted 5 of its 20: the quiet source has 15 left (its own limit aside).
    const quietVerdicts = [];
    for (let i = 0; i < 5; i++) quietVerdicts.push(await store.sources.hitRateLimit(quiet, own, ceiling));
    expect(quietVerdicts).toEqual([null, null, null, null, null]);
  });

  it('takes one round trip, a first refusal included', async () => {
    const store = createStore({ redis: db.redis, prefix: db.prefix, now: minuteStart });
    const source = { id: newId('src'), subscriberId: 'sub_trips' };
    // The script loaded (a first EVALSHA answered NOSCRIPT is sent again as EVAL): not what is counted.
    await store.sources.hitRateLimit({ id: newId('src'), subscriberId: 'sub_warm' }, WIDE, WIDE);
    const watch = watchCommands(db.redis);
    await store.sources.hitRateLimit(source, WIDE, { perSecond: 1, perMinute: 10 });
    const refused = await store.sources.hitRateLimit(source, WIDE, { perSecond: 1, perMinute: 10 });
    watch.stop();
    expect(refused).toMatchObject({ scope: 'subscriber', window: 'second', first: true });
    expect(watch.sent).toBe(2);
  });
});
