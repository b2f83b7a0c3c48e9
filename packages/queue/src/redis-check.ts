import type Redis from 'ioredis';
import { createRedis } from './redis-connection';
import { safeRedisUrl } from './redis-url';

export class RedisUnreachableError extends Error {
  override readonly name: string = 'RedisUnreachableError';
}

/** Redis answers, but is older than Hookrelay needs: start-up stops with what to do. */
export class RedisVersionError extends RedisUnreachableError {
  override readonly name: string = 'RedisVersionError';
}

/** The oldest Redis Hookrelay runs on: `XADD key <ms>-*` (7.0) and `PEXPIRE key ms NX` (7.0). */
export const MIN_REDIS_VERSION = [7, 0, 0] as const;

/** `redis_version` from INFO's server section, as numbers; null when the field is missing or unreadable. */
export function redisVersionOf(info: string): [number, number, number] | null {
  const match = /^redis_version:(\d+)\.(\d+)\.(\d+)/m.exec(info);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

type Version = readonly [number, number, number];

/** Throws RedisVersionError unless `info` (INFO server) names Redis `minimum` (MIN_REDIS_VERSION) or later. */
export function assertSupportedRedisVersion(info: string, where: string, minimum: Version = MIN_REDIS_VERSION): void {
  const version = redisVersionOf(info);
  const [major, minor, patch] = version ?? [0, 0, 0];
  const [wantMajor, wantMinor, wantPatch] = minimum;
  const supported = major !== wantMajor ? major > wantMajor : minor !== wantMinor ? minor > wantMinor : patch >= wantPatch;
  if (version && supported) return;
  throw new RedisVersionError(
    [
      `Redis ${wantMajor}.${wantMinor} or later is required; ${where} is ${version ? `Redis ${version.join('.')}` : 'a server that does not say its version (INFO server has no redis_version)'}.`,
      'Hookrelay stores its history as streams with time-based ids (XADD key <ms>-*) and sets expiries',
      'only where none is set (PEXPIRE ... NX): both need Redis 7.0. Upgrade the server, or point',
      'REDIS_URL at a Redis 7 (for example: docker run -p 6379:6379 redis:7-alpine).',
    ].join('\n'),
  );
}

/**
 * Fails start-up with a message a newcomer can act on, instead of a stream of reconnect errors,
 * when Redis is not there, and when it is older than 7.0 (instead of failing on the first publish).
 */
export async function checkRedisReachable(url: string, timeoutMs = 3000, minimumVersion: Version = MIN_REDIS_VERSION): Promise<void> {
  const client: Redis = createRedis(url, 'store', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  let lastError = '';
  let info: string | undefined;
  client.on('error', (err: Error) => {
    lastError = (err as { code?: string }).code ?? err.message;
  });
  try {
    await client.connect();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.info('server').then((text) => {
        info = text;
      }),
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
  assertSupportedRedisVersion(info ?? '', safeRedisUrl(url), minimumVersion);
}
