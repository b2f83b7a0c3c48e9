import { type EventTypeRecord } from './index';
import { useTestStore } from './test-store';

function record(type: string, patch: Partial<EventTypeRecord> = {}): EventTypeRecord {
  return {
    type,
    description: `${type} happened`,
    schema: { type: 'object' },
    examples: [{}],
    deprecatedAt: null,
    archivedAt: null,
    revision: 1,
    createdAt: 1000,
    updatedAt: 1000,
    ...patch,
  };
}

describe('operator-defined event types in Redis', () => {
  const db = useTestStore('evtypes', { eventTypeLimits: { maxTypes: 3, maxBytes: 4096 } });

  it('creates a type once, and moves the catalog version with each change', async () => {
    expect(await db.store.eventTypes.version()).toBe('0');
    expect(await db.store.eventTypes.create(record('order.paid'))).toEqual({ ok: true, version: '1' });
    expect(await db.store.eventTypes.create(record('order.paid', { description: 'again' }))).toEqual({ ok: false, reason: 'exists' });
    expect((await db.store.eventTypes.get('order.paid'))?.description).toBe('order.paid happened');
    expect(await db.store.eventTypes.version()).toBe('1');
    expect(await db.store.eventTypes.states()).toEqual(new Map([['order.paid', { revision: 1, archived: false, deprecatedAt: null }]]));
  });

  it('applies an update only at the revision the caller read', async () => {
    await db.store.eventTypes.create(record('order.paid'));
    expect(await db.store.eventTypes.update(record('order.paid', { revision: 2, archivedAt: 5000 }), 1)).toEqual({
      ok: true,
      version: '2',
    });
    // A second writer that also read revision 1 loses instead of undoing the first.
    expect(await db.store.eventTypes.update(record('order.paid', { revision: 2, description: 'stale' }), 1)).toEqual({
      ok: false,
      reason: 'conflict',
      currentRevision: 2,
    });
    expect(await db.store.eventTypes.get('order.paid')).toMatchObject({
      revision: 2,
      archivedAt: 5000,
      description: 'order.paid happened',
    });
    expect((await db.store.eventTypes.states()).get('order.paid')).toEqual({ revision: 2, archived: true, deprecatedAt: null });
    expect(await db.store.eventTypes.update(record('order.missing', { revision: 2 }), 1)).toEqual({ ok: false, reason: 'missing' });
    expect(await db.store.eventTypes.version()).toBe('2');
  });

  it('refuses a type past the count limit and a record past the byte limit, writing nothing', async () => {
    for (const t of ['a.one', 'a.two', 'a.three']) expect((await db.store.eventTypes.create(record(t))).ok).toBe(true);
    expect(await db.store.eventTypes.create(record('a.four'))).toEqual({ ok: false, reason: 'too_many' });

    const big = record('a.one', { revision: 2, description: 'x'.repeat(4000) });
    expect(await db.store.eventTypes.update(big, 1)).toEqual({ ok: false, reason: 'too_large' });
    expect((await db.store.eventTypes.get('a.one'))?.revision).toBe(1);
    // The size is counted by replacing the old record's bytes, not adding to them.
    const fits = record('a.one', { revision: 2, description: 'y'.repeat(3000) });
    expect((await db.store.eventTypes.update(fits, 1)).ok).toBe(true);
    expect(Number(await db.redis.get(db.store.keys.eventTypesBytes()))).toBe(
      (await db.store.eventTypes.list()).reduce((sum, r) => sum + Buffer.byteLength(JSON.stringify(r)), 0),
    );
    expect(await db.store.eventTypes.version()).toBe('4');
  });
});
