import { freePort, requireRedisUrl, waitUntil } from '@hookrelay/testing';
import { createRedis, disconnectRedis, DISCONNECT_TIMEOUT_MS } from './redis-connection';

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

  it("lets go of a connection reconnecting to a Redis that is not there within DISCONNECT_TIMEOUT_MS, not ioredis's 2 s", async () => {
    expect(DISCONNECT_TIMEOUT_MS).toBe(200);
    const connection = createRedis(`redis://127.0.0.1:${await freePort()}`, 'subscriber');
    connection.on('error', () => undefined);
    await waitUntil(() => connection.status === 'reconnecting', 'the connection to be reconnecting');
    // Counted with its next reconnect's timer, which disconnect() clears. The timer it arms instead
    // is never cleared (the socket closed long ago), only run.
    const before = timers();
    disconnectRedis(connection);
    const started = Date.now();
    await waitUntil(() => timers() === before - 1, 'the timer disconnect() armed to run', 1500);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(connection.status).not.toBe('ready');
  });

  it('closes a live connection', async () => {
    const connection = createRedis(requireRedisUrl(), 'store');
    await connection.ping();
    disconnectRedis(connection);
    await new Promise((resolve) => connection.once('end', resolve));
    expect(connection.status).toBe('end');
  });
});
