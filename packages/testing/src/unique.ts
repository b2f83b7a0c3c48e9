import { randomBytes } from 'node:crypto';

/** A Redis key prefix no other test shares, so tests can run side by side on one server. */
export function uniquePrefix(label = 't'): string {
  return `hrtest:${label}:${randomBytes(4).toString('hex')}`;
}

export function requireRedisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set: jest global setup should have started redis-server');
  return url;
}
