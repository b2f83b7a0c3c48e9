// `npm run due-retries:back`: before rolling back to a version older than per-subscriber due sets,
// moves every waiting retry into the one due set for everyone, which is all such a version reads
// (docs/operations.md, "Upgrading to per-subscriber due sets"). Stop every API and worker process
// of this version first: a retry one of them schedules meanwhile would wait where the older
// version never looks.
//
//   REDIS_URL=redis://... QUEUE_PREFIX=hookrelay npm run due-retries:back
//
// Exit code 0: done (it says how many it moved); 1: it could not run (configuration, Redis).
import { z } from 'zod';
import { parseEnv } from '@hookrelay/contracts';
import { checkRedisReachable, createRedis, redisUrlSchema, safeRedisUrl } from '@hookrelay/queue';
import { createKeys, moveDueSetsBack } from '@hookrelay/store';
import { runCommand } from './run-command';

const configSchema = z.object({
  REDIS_URL: redisUrlSchema.default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().min(1).max(64).default('hookrelay'),
});

async function main(): Promise<number> {
  const config = parseEnv(configSchema, process.env);
  await checkRedisReachable(config.REDIS_URL);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`due-retries:back: redis ${safeRedisUrl(config.REDIS_URL)}, prefix ${config.QUEUE_PREFIX}`);
  const redis = createRedis(config.REDIS_URL, 'store');
  try {
    const report = await moveDueSetsBack(redis, createKeys(config.QUEUE_PREFIX));
    out(`due-retries:back: ${report.retries} retries of ${report.subscribers} subscribers moved to ${config.QUEUE_PREFIX}:sched:due`);
    return 0;
  } finally {
    redis.disconnect();
  }
}

runCommand('due-retries:back', main);
