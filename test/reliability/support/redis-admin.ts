import Redis from 'ioredis';

/** One-off admin connection to a test's own redis-server. */
async function withClient<T>(url: string, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** A field of INFO, e.g. `process_id` or `used_memory`. */
export async function redisInfoField(url: string, section: string, field: string): Promise<string> {
  const info = await withClient(url, (c) => c.info(section));
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  if (!match?.[1]) throw new Error(`INFO ${section} has no ${field}`);
  return match[1].trim();
}

export async function redisPid(url: string): Promise<number> {
  return Number(await redisInfoField(url, 'server', 'process_id'));
}

export async function configSet(url: string, name: string, value: string): Promise<void> {
  await withClient(url, (c) => c.config('SET', name, value));
}

/**
 * Every key under `prefix` with its content, read in one pipeline. Hashes and sets are compared by
 * their sorted entries: a read can rehash a large one, which reorders its DUMP without changing
 * it. Other types by DUMP.
 */
export async function snapshotKeys(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const types = await redis.pipeline(keys.map((key) => ['type', key])).exec();
  const pipeline = redis.pipeline();
  keys.forEach((key, i) => {
    const type = types?.[i]?.[1];
    if (type === 'hash') pipeline.hgetall(key);
    else if (type === 'set') pipeline.smembers(key);
    else pipeline.dumpBuffer(key);
  });
  const contents = (await pipeline.exec()) ?? [];
  const out = new Map<string, string>();
  keys.forEach((key, i) => {
    const content = contents[i]?.[1] as Buffer | string[] | Record<string, string> | null | undefined;
    if (Buffer.isBuffer(content)) out.set(key, content.toString('base64'));
    else if (Array.isArray(content)) out.set(key, JSON.stringify([...content].sort()));
    else if (content) out.set(key, JSON.stringify(Object.entries(content).sort(([a], [b]) => (a < b ? -1 : 1))));
  });
  return out;
}

/** Keys added, removed or changed between two snapshots. */
export function diffSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed: string[] = [];
  for (const [key, value] of after) if (before.get(key) !== value) changed.push(before.has(key) ? `changed ${key}` : `added ${key}`);
  for (const key of before.keys()) if (!after.has(key)) changed.push(`removed ${key}`);
  return changed;
}
