import type Redis from 'ioredis';
import { createRedis } from './redis-connection';
import { safeRedisUrl } from './redis-url';

export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/**
 * Fails start-up with a message a newcomer can act on, instead of a stream of reconnect errors,
 * when Redis is not there.
 */
export async function checkRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const client: Redis = createRedis(url, 'store', { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null });
  let lastError = '';
  client.on('error', (err: Error) => {
    lastError = (err as { code?: string }).code ?? err.message;
  });
  try {
    await client.connect();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer')), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (err) {
    const reason = lastError || (err as Error).message;
    throw new RedisUnreachableError(
      [
        `Cannot reach Redis at ${safeRedisUrl(url)} (${reason}).`,
        'Hookrelay keeps its queue and delivery records in Redis. Either:',
        '  - start a local one:  redis-server --daemonize yes',
        '    (not installed? Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis)',
        '  - or point REDIS_URL at a running Redis, e.g. REDIS_URL=redis://host:6379 npm start',
      ].join('\n'),
    );
  } finally {
    client.disconnect();
  }
}
