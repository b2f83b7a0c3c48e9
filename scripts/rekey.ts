// `npm run rekey`: seals every stored secret under the first key of HOOKRELAY_ENCRYPTION_KEYS.
//
// Run it after putting a new key first in the list and restarting every API and worker process
// with that list; it works while they keep running. It prints how many records it changed and
// names those it could not read. When it reports none unreadable, run it once more: 0 changed
// means no process still writes under the old key, which can then be dropped from the list.
//
//   HOOKRELAY_ENCRYPTION_KEYS=k2:<new>,k1:<old> npm run rekey [-- --batch 500] [-- --resume ep:0:1234]
//
// Exit code 0: every secret is under the first key; 2: some records are unreadable or were too
// busy to rewrite (do not drop a key yet); 1: it could not run (configuration, Redis).
import { z } from 'zod';
import { ConfigError, parseEnv } from '@hookrelay/contracts';
import { checkRedisReachable, createRedis, redisUrlSchema, safeRedisUrl } from '@hookrelay/queue';
import { encryptionKeysEnv, SecretBox } from '@hookrelay/secrets';
import { rekeyStoredSecrets } from '@hookrelay/store';
import { runCommand } from './run-command';

const configSchema = z
  .object({
    REDIS_URL: redisUrlSchema.default('redis://127.0.0.1:6379'),
    QUEUE_PREFIX: z.string().min(1).max(64).default('hookrelay'),
    HOOKRELAY_ENCRYPTION_KEYS: encryptionKeysEnv(),
  })
  .superRefine((env, ctx) => {
    if (env.HOOKRELAY_ENCRYPTION_KEYS.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['HOOKRELAY_ENCRYPTION_KEYS'],
        message: 'is not set: rekey seals secrets under its first key (the same list the services run with)',
      });
    }
  });

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<number> {
  const config = parseEnv(configSchema, process.env);
  const batchSize = Number(option('batch') ?? 500);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000)
    throw new ConfigError('--batch must be a whole number from 1 to 100000');
  await checkRedisReachable(config.REDIS_URL);
  const secrets = new SecretBox(config.HOOKRELAY_ENCRYPTION_KEYS);
  const [first, ...others] = config.HOOKRELAY_ENCRYPTION_KEYS.map((k) => k.id);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `rekey: sealing every stored secret under key "${first}"${others.length ? ` (opening with ${others.map((id) => `"${id}"`).join(', ')} too)` : ''}`,
  );
  out(`  redis ${safeRedisUrl(config.REDIS_URL)}, prefix ${config.QUEUE_PREFIX}, ${batchSize} keys a batch`);

  const redis = createRedis(config.REDIS_URL, 'store');
  // A large keyspace takes many SCAN calls: a progress line every few seconds, not one per call.
  let printedAt = 0;
  try {
    const report = await rekeyStoredSecrets({
      redis,
      prefix: config.QUEUE_PREFIX,
      secrets,
      batchSize,
      resumeFrom: option('resume'),
      onProgress: (p) => {
        if (Date.now() - printedAt < 2000 && p.position !== 'done') return;
        printedAt = Date.now();
        out(`  ${p.read} records read, ${p.changed} changed (to resume after this batch: --resume ${p.position})`);
      },
    });
    out(
      `rekey: ${report.read} records read: ${report.changed} changed, ${report.current} already under "${first}", ${report.unreadable.length} unreadable`,
    );
    for (const u of report.unreadable) out(`  unreadable: ${u.problem}`);
    for (const key of report.busy) out(`  busy (changed during every attempt; run rekey again): ${key}`);
    if (report.unreadable.length || report.busy.length) {
      out('Keep every old key in HOOKRELAY_ENCRYPTION_KEYS until these are resolved (SECURITY.md, "Key rotation").');
      return 2;
    }
    out(
      report.changed === 0
        ? 'Nothing left under another key: the other keys may be removed from the list.'
        : 'Run it once more: when it changes 0 records, the other keys may be removed from the list.',
    );
    return 0;
  } finally {
    redis.disconnect();
  }
}

runCommand('rekey', main);
