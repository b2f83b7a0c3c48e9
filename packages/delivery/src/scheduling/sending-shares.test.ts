import { EndpointLanes } from './endpoint-lanes';
import { KeyedSlots } from './keyed-slots';
import { SendingShares } from './sending-shares';

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedSlots', () => {
  it('gives each key its limit at once, then one per release in the order asked, saying who waited, and forgets an idle key', async () => {
    const slots = new KeyedSlots(2);
    const a1 = await slots.take('a');
    const a2 = await slots.take('a');
    expect([a1.waited, a2.waited]).toEqual([false, false]);
    const b1 = await slots.take('b');
    const order: string[] = [];
    const a3 = slots.take('a').then((taken) => (order.push('a3'), taken));
    const a4 = slots.take('a').then((taken) => (order.push('a4'), taken));
    await settle();
    expect(order).toEqual([]);
    expect(slots.held('a')).toBe(2);
    a1.release();
    a1.release(); // a second release frees nothing more
    await settle();
    expect(order).toEqual(['a3']);
    expect(slots.held('a')).toBe(2);
    b1.release();
    expect(slots.held('b')).toBe(0);
    const third = await a3;
    expect(third.waited).toBe(true);
    third.release();
    (await a4).release();
    a2.release();
    expect(order).toEqual(['a3', 'a4']);
    expect(slots.held('a')).toBe(0);
  });
});

describe('SendingShares', () => {
  it("holds an endpoint to its share and a subscriber to its own, across the subscriber's endpoints", async () => {
    const shares = new SendingShares({ endpoint: 2, subscriber: 3 });
    const held = [await shares.take('ep_1', 'sub'), await shares.take('ep_1', 'sub'), await shares.take('ep_2', 'sub')];
    expect(held.map((h) => h.waited)).toEqual([false, false, false]);
    let third = false;
    let fourth = false;
    const third1 = shares.take('ep_1', 'sub').then((taken) => ((third = true), taken));
    const fourth2 = shares.take('ep_2', 'sub').then((taken) => ((fourth = true), taken));
    await settle();
    // ep_1 is at its share; ep_2 is not, but the subscriber is at its own.
    expect([third, fourth]).toEqual([false, false]);
    expect(shares.inAttempts('ep_2', 'sub')).toEqual({ endpoint: 2, subscriber: 3 });
    held[2]!.release();
    await settle();
    expect([third, fourth]).toEqual([false, true]);
    held[0]!.release();
    await settle();
    expect(third).toBe(true);
    const [t, f] = [await third1, await fourth2];
    expect([t.waited, f.waited]).toEqual([true, true]);
    t.release();
    f.release();
    held[1]!.release();
    expect(shares.inAttempts('ep_1', 'sub')).toEqual({ endpoint: 0, subscriber: 0 });
  });

  it('holds a job that does not name its subscriber (admitted by the version before) to its endpoint share only', async () => {
    const shares = new SendingShares({ endpoint: 2, subscriber: 1 });
    await shares.take('ep_old', undefined);
    await shares.take('ep_old', undefined);
    expect(shares.inAttempts('ep_old', 'sub')).toEqual({ endpoint: 2, subscriber: 0 });
  });
});

describe('EndpointLanes', () => {
  it('knows the lane an endpoint last moved to, forgets on request, and keeps at most its bound, the oldest move dropped first', () => {
    const lanes = new EndpointLanes(2);
    expect(lanes.leftLane('ep_a', 'fast')).toBe(false);
    lanes.moved('ep_a', 'slow');
    expect(lanes.leftLane('ep_a', 'fast')).toBe(true);
    expect(lanes.leftLane('ep_a', 'slow')).toBe(false);
    lanes.moved('ep_b', 'slow');
    lanes.moved('ep_a', 'fast'); // moved back: now the newest
    lanes.moved('ep_c', 'slow');
    expect(lanes.size).toBe(2);
    expect(lanes.leftLane('ep_b', 'fast')).toBe(false); // dropped
    expect(lanes.leftLane('ep_a', 'slow')).toBe(true);
    lanes.forget('ep_a');
    expect(lanes.leftLane('ep_a', 'slow')).toBe(false);
  });
});
