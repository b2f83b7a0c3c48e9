import { startRedisServer, type RedisServerHandle } from './redis-server';

declare global {
  var __HOOKRELAY_REDIS__: RedisServerHandle | undefined;
}

/** Uses REDIS_URL when the caller set one; otherwise starts a private redis-server for the run. */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) return;
  const server = await startRedisServer();
  globalThis.__HOOKRELAY_REDIS__ = server;
  process.env.REDIS_URL = server.url;
}
