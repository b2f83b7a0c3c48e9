import { requireRedisUrl } from '@hookrelay/testing';
import { checkRedisReachable, RedisVersionError } from './redis-check';

describe('checkRedisReachable against a real redis-server', () => {
  it('passes on this Redis (7.0 or later), and reads its version from INFO', async () => {
    await expect(checkRedisReachable(requireRedisUrl())).resolves.toBeUndefined();
  });

  it('stops start-up when the server is older than required, naming the version it found', async () => {
    // The same path with a minimum above this server's: what a Redis 6 meets against 7.0.
    const failure = await checkRedisReachable(requireRedisUrl(), 3000, [99, 0, 0]).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(RedisVersionError);
    expect((failure as Error).message).toMatch(/^Redis 99\.0 or later is required; redis:\/\/127\.0\.0\.1:\d+ is Redis \d+\.\d+\.\d+\./);
  });
});
