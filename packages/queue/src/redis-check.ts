import Redis from 'ioredis';

export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/** The URL as it may be printed: any password replaced. */
export function safeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/**
 * Fails start-up with a message a newcomer can act on, instead of a stream of reconnect errors,
 * when Redis is not there.
 */
export async function checkRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null });
  let lastError = '';
  client.on('error', (err: Error) => {
    lastError = (err as { code?: string }).code ?? err.message;
  });
  try {
    await client.connect();
    await client.ping();
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
