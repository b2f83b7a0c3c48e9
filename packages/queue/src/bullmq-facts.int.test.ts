import Redis from 'ioredis';
import { requireRedisUrl, uniquePrefix } from '@hookrelay/testing';
import { DeliveryJobTransaction } from './delivery-job-transaction';
import { createDeliveryQueue, waitListKey, type DeliveryQueue } from './delivery-queue';
import { QueuedDeliveries } from './queued-deliveries';

/**
 * What Hookrelay relies on about BullMQ's storage, against the installed version: jobs queued by
 * earlier versions are found at this key with these fields (the store reads them in its own
 * transactions), and the scheduler's admit.lua measures the wait list by LLEN. A BullMQ upgrade that
 * changes any of it fails here, before history reads or admission go wrong.
 */
describe('the BullMQ storage facts packages/queue relies on', () => {
  let redis: Redis;
  let prefix: string;
  let queue: DeliveryQueue;

  beforeEach(() => {
    redis = new Redis(requireRedisUrl());
    prefix = uniquePrefix('bullmq-facts');
    queue = createDeliveryQueue({ connection: new Redis(requireRedisUrl(), { maxRetriesPerRequest: null }), keyPrefix: prefix });
  });
  afterEach(async () => {
    await queue.close();
    (await queue.client).disconnect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('keeps a delivery job in a hash at <prefix>:bull:deliveries:<job id>, with its data as JSON and its time as epoch ms', async () => {
    await queue.add('deliver', { eventId: 'evt_1', endpointId: 'ep_1' }, { jobId: 'dlv_1', timestamp: 1234 });
    const key = `${prefix}:bull:deliveries:dlv_1`;
    expect(new QueuedDeliveries(prefix).jobKey('dlv_1')).toBe(key);
    const [data, timestamp] = await redis.hmget(key, 'data', 'timestamp');
    expect(JSON.parse(data!)).toEqual({ eventId: 'evt_1', endpointId: 'ep_1' });
    expect(timestamp).toBe('1234');
  });

  it('reads a queued delivery from its job key and fields, and nothing where no job is', async () => {
    await queue.add('deliver', { eventId: 'evt_2', endpointId: 'ep_2' }, { jobId: 'dlv_2', timestamp: 5678 });
    const queued = new QueuedDeliveries(prefix);
    // As read-deliveries.lua reads them: the job's key and the fields `fields` names, in that order.
    const read = (id: string) => redis.hmget(queued.jobKey(id), ...queued.fields);
    expect(queued.parse('dlv_2', await read('dlv_2'))).toEqual({ id: 'dlv_2', eventId: 'evt_2', endpointId: 'ep_2', createdAt: 5678 });
    expect(queued.parse('dlv_none', await read('dlv_none'))).toBeNull();
  });

  it('lists waiting job ids in the wait list key the scheduler measures', async () => {
    await queue.add('deliver', { eventId: 'evt_3', endpointId: 'ep_3' }, { jobId: 'dlv_3' });
    expect(waitListKey(queue)).toBe(`${prefix}:bull:deliveries:wait`);
    expect(await redis.lrange(waitListKey(queue), 0, -1)).toEqual(['dlv_3']);
  });

  describe('DeliveryJobTransaction', () => {
    it('adds jobs and runs the caller own writes in one transaction, and does not add a job id twice', async () => {
      await redis.zadd(`${prefix}:leases`, 1, 'a', 2, 'b');
      const data = { endpointId: 'ep_4', deliveries: [{ id: 'dlv_4', eventId: 'evt_4', ticket: 1 }] };
      const transaction = await DeliveryJobTransaction.open(queue);
      await transaction
        .addJobs([{ jobId: 'dlv_4-1', data }])
        .zrem(`${prefix}:leases`, 'a')
        .exec();
      await (await DeliveryJobTransaction.open(queue)).addJobs([{ jobId: 'dlv_4-1', data: { ...data, endpointId: 'other' } }]).exec();
      expect(await redis.zrange(`${prefix}:leases`, 0, -1)).toEqual(['b']);
      expect(await redis.lrange(waitListKey(queue), 0, -1)).toEqual(['dlv_4-1']);
      expect((await queue.getJob('dlv_4-1'))?.data).toEqual(data);
    });

    it('throws when a command in it fails', async () => {
      await redis.set(`${prefix}:not-a-set`, 'x');
      const transaction = await DeliveryJobTransaction.open(queue);
      await expect(transaction.zrem(`${prefix}:not-a-set`, 'a').exec()).rejects.toThrow(/WRONGTYPE/);
    });
  });
});
