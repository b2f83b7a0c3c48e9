import { once } from 'node:events';
import { Cluster } from 'ioredis';
import type Redis from 'ioredis';

/**
 * The servers to SCAN: SCAN sees one server's keys, so on a Cluster every master in turn. A
 * Cluster lists its masters once it is ready: asked before, it has none, and a scan of nothing
 * would pass for a keyspace with nothing to do.
 */
export async function scanTargets(redis: Redis): Promise<Redis[]> {
  if (!(redis instanceof Cluster)) return [redis];
  const cluster = redis as Cluster;
  if (cluster.status !== 'ready') await once(cluster, 'ready');
  return cluster.nodes('master');
}

/** `text` matched as itself by a SCAN MATCH pattern (a prefix may hold `*`, `?`, `[` or `\`). */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
