import { assertSupportedRedisVersion, MIN_REDIS_VERSION, redisVersionOf, RedisUnreachableError, RedisVersionError } from './redis-check';

const info = (version: string) => `# Server\r\nredis_version:${version}\r\nredis_git_sha1:00000000\r\nredis_mode:standalone\r\n`;

describe('the Redis version start-up requires', () => {
  it('is 7.0.0', () => {
    expect(MIN_REDIS_VERSION).toEqual([7, 0, 0]);
  });

  it.each(['7.0.0', '7.0.15', '7.2.4', '7.4.1', '8.0.2', '10.1.0'])('accepts Redis %s', (version) => {
    expect(() => assertSupportedRedisVersion(info(version), 'redis://127.0.0.1:6379')).not.toThrow();
  });

  it.each(['6.2.14', '6.0.20', '5.0.14', '4.0.0'])('stops at Redis %s, saying 7.0 or later is required and what it found', (version) => {
    let error: unknown;
    try {
      assertSupportedRedisVersion(info(version), 'redis://127.0.0.1:6379');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RedisVersionError);
    // The start-up paths print RedisUnreachableError messages as they are (apps/*/src/main.ts).
    expect(error).toBeInstanceOf(RedisUnreachableError);
    expect((error as Error).message).toMatch(
      new RegExp(`^Redis 7\\.0 or later is required; redis://127\\.0\\.0\\.1:6379 is Redis ${version.replace(/\./g, '\\.')}\\.`),
    );
    expect((error as Error).message).toContain('XADD');
  });

  it('stops at a server that does not say its version', () => {
    expect(() => assertSupportedRedisVersion('# Server\r\nredis_mode:standalone\r\n', 'redis://h:1')).toThrow(/does not say its version/);
    expect(redisVersionOf('redis_version:7.0.15\r\n')).toEqual([7, 0, 15]);
  });
});
