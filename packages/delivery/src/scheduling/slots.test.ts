import { Slots } from './slots';

describe('Slots', () => {
  it('hands out size slots at once, then one per release, in the order asked', async () => {
    const slots = new Slots(2);
    const a = await slots.take();
    const b = await slots.take();
    expect(slots.inUse).toBe(2);
    const order: string[] = [];
    const c = slots.take().then((give) => (order.push('c'), give));
    const d = slots.take().then((give) => (order.push('d'), give));
    await Promise.resolve();
    expect(order).toEqual([]);
    a();
    a(); // a second release of the same slot frees nothing more
    const giveC = await c;
    expect(order).toEqual(['c']);
    expect(slots.inUse).toBe(2);
    b();
    const giveD = await d;
    expect(order).toEqual(['c', 'd']);
    giveC();
    giveD();
    expect(slots.inUse).toBe(0);
  });
});
