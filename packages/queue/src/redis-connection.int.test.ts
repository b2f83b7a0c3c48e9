import { requireRedisUrl } from '@hookrelay/testing';
import { createRedis, disconnectRedis } from './redis-connection';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('disconnectRedis', () => {
  it('leaves no timer behind on a connection that has ended already (ioredis arms one for 2 s)', async () => {
    const connection = createRedis(requireRedisUrl(), 'subscriber');
    await connection.ping();
    connection.disconnect();
    await new Promise((resolve) => connection.once('end', resolve));
    const before = timers();

    // A plain disconnect() here arms one (a timer nothing clears), which this would count.
    disconnectRedis(connection);
    expect(timers()).toBe(before);
  });

  it('closes a live connection', async () => {
    const connection = createRedis(requireRedisUrl(), 'store');
    await connection.ping();
    disconnectRedis(connection);
    await new Promise((resolve) => connection.once('end', resolve));
    expect(connection.status).toBe('end');
  });
});
