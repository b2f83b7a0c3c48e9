import { buildEndpoint, watchCommands } from '@hookrelay/testing';
import { useTestStore } from './test-store';

describe('endpoints counted by status', () => {
  const db = useTestStore('ep-status');
  const index = () => db.store.endpoints.byStatus;

  /** A subscriber as the admin API makes one (its record and its place in the subscribers index). */
  async function subscriber(id: string): Promise<void> {
    await db.redis
      .multi()
      .set(db.store.keys.subscriber(id), JSON.stringify({ id, name: id, createdAt: 1 }))
      .zadd(db.store.keys.subscribers(), 1, id)
      .exec();
  }

  /** The counts, once the index has been built. */
  async function counts() {
    const { builtAt, ...byStatus } = await index().counts();
    expect(builtAt).not.toBeNull();
    return byStatus;
  }

  it('has no build time until built, then follows every create, disable, re-enable, save and delete', async () => {
    expect((await index().counts()).builtAt).toBeNull();
    await index().rebuild(1234);
    expect(await index().counts()).toEqual({ active: 0, disabled: 0, builtAt: 1234 });

    const a = buildEndpoint({ subscriberId: 'sub_a', url: 'https://a.example/hook' });
    const b = buildEndpoint({ subscriberId: 'sub_a', url: 'https://b.example/hook' });
    expect(await db.store.endpoints.create(a, 10)).toBe(true);
    expect(await db.store.endpoints.create(b, 10)).toBe(true);
    expect(await counts()).toEqual({ active: 2, disabled: 0 });

    await db.store.endpoints.update(a.id, { status: 'disabled', disabledAt: 5 });
    expect(await counts()).toEqual({ active: 1, disabled: 1 });
    // The same change twice counts once.
    await db.store.endpoints.update(a.id, { status: 'disabled', disabledAt: 6 });
    expect(await counts()).toEqual({ active: 1, disabled: 1 });
    await db.store.endpoints.update(a.id, { status: 'active' });
    expect(await counts()).toEqual({ active: 2, disabled: 0 });

    await db.store.endpoints.save({ ...b, status: 'disabled' });
    expect(await counts()).toEqual({ active: 1, disabled: 1 });

    await db.store.endpoints.delete(b);
    await db.store.endpoints.delete(b);
    expect(await counts()).toEqual({ active: 1, disabled: 0 });
    // A change to an endpoint deleted meanwhile finds it gone and files nothing.
    expect(await db.store.endpoints.update(b.id, { status: 'active' })).toBeNull();
    expect(await counts()).toEqual({ active: 1, disabled: 0 });
  });

  it("builds from endpoints written before the index, dropping ids whose endpoint is gone, and counts in five commands whatever the deployment's size", async () => {
    for (let s = 0; s < 30; s++) {
      await subscriber(`sub_${s}`);
      for (let e = 0; e < 3; e++) {
        const endpoint = buildEndpoint({ subscriberId: `sub_${s}`, url: `https://h${e}.example/` });
        await db.store.endpoints.create(endpoint, 10);
        if (s % 10 === 0 && e === 0) await db.store.endpoints.update(endpoint.id, { status: 'disabled', disabledAt: 1 });
      }
    }
    // As a version before the index left it: neither set, nor the mark; and an id of an endpoint
    // since deleted (by that version) in the set, as an interrupted build may leave.
    await db.redis.del(db.store.keys.endpointIds(), db.store.keys.disabledEndpointIds());
    await db.redis.sadd(db.store.keys.endpointIds(), 'ep_gone');
    await db.redis.sadd(db.store.keys.disabledEndpointIds(), 'ep_gone');
    expect((await index().counts()).builtAt).toBeNull();

    const claim = await index().claimRebuild(60_000);
    expect(claim).not.toBeNull();
    expect(await index().claimRebuild(60_000)).toBeNull();
    await index().rebuild(Date.now());
    // Only its holder gives a claim up.
    await index().releaseRebuild('not-the-claim');
    expect(await index().claimRebuild(60_000)).toBeNull();
    await index().releaseRebuild(claim!);
    expect(await index().claimRebuild(60_000)).not.toBeNull();
    expect(await counts()).toEqual({ active: 87, disabled: 3 });
    expect(await db.redis.sismember(db.store.keys.endpointIds(), 'ep_gone')).toBe(0);

    const watch = watchCommands(db.redis);
    try {
      await index().counts();
      // MULTI, GET, SCARD, SCARD, EXEC: no read per subscriber or endpoint.
      expect(watch.sent).toBe(5);
    } finally {
      watch.stop();
    }
  });

  it('built again beside creates, disables, re-enables and deletes, agrees with the records, and mends what a version without the index left', async () => {
    await subscriber('sub_busy');
    const made = [];
    for (let i = 0; i < 250; i++) {
      const endpoint = buildEndpoint({ subscriberId: 'sub_busy', url: `https://h${i}.example/` });
      await db.store.endpoints.create(endpoint, 1000);
      made.push(endpoint);
    }
    // What a process of an earlier version leaves: an active endpoint filed as disabled, a
    // disabled one filed as active, and the id of one it deleted.
    await db.redis.sadd(db.store.keys.disabledEndpointIds(), made[0]!.id);
    await db.redis.set(db.store.keys.endpoint(made[1]!.id), JSON.stringify({ ...made[1], status: 'disabled' }));
    await db.redis.sadd(db.store.keys.endpointIds(), 'ep_deleted_by_old');

    const changes = (async () => {
      for (let i = 2; i < 250; i += 3) {
        await db.store.endpoints.update(made[i]!.id, { status: 'disabled', disabledAt: 1 });
        await db.store.endpoints.delete(made[i + 1]!);
        const added = buildEndpoint({ subscriberId: 'sub_busy', url: `https://new${i}.example/` });
        await db.store.endpoints.create(added, 1000);
        await db.store.endpoints.update(added.id, { status: 'disabled', disabledAt: 1 });
        await db.store.endpoints.update(added.id, { status: 'active' });
      }
    })();
    await Promise.all([index().rebuild(Date.now()), changes]);

    // The truth, from the records themselves.
    const ids = await db.redis.zrange(db.store.keys.subscriberEndpoints('sub_busy'), 0, -1);
    const records = await db.redis.mget(ids.map((id) => db.store.keys.endpoint(id)));
    const disabled = records.filter((r) => r && (JSON.parse(r) as { status: string }).status === 'disabled').length;
    expect(await counts()).toEqual({ active: ids.length - disabled, disabled });
    expect(disabled).toBeGreaterThan(80);
    expect(await db.redis.sismember(db.store.keys.disabledEndpointIds(), made[0]!.id)).toBe(0);
    expect(await db.redis.sismember(db.store.keys.disabledEndpointIds(), made[1]!.id)).toBe(1);
    expect(await db.redis.sismember(db.store.keys.endpointIds(), 'ep_deleted_by_old')).toBe(0);
  });
});
