import type Redis from 'ioredis';

function infoField(info: string, field: string): number {
  const match = new RegExp(`^${field}:([0-9.]+)`, 'm').exec(info);
  if (!match?.[1]) throw new Error(`INFO has no ${field}`);
  return Number(match[1]);
}

export async function usedMemory(redis: Redis): Promise<number> {
  return infoField(await redis.info('memory'), 'used_memory');
}

export async function redisPid(redis: Redis): Promise<number> {
  return infoField(await redis.info('server'), 'process_id');
}

async function cpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  return infoField(info, 'used_cpu_user') + infoField(info, 'used_cpu_sys');
}

async function netBytes(redis: Redis): Promise<{ input: number; output: number }> {
  const info = await redis.info('stats');
  return { input: infoField(info, 'total_net_input_bytes'), output: infoField(info, 'total_net_output_bytes') };
}

/** The bench's own calls (reading the counters), left out of what a stretch cost Redis. */
const BENCH_COMMANDS: ReadonlySet<string> = new Set(['info', 'config', 'slowlog']);

export interface CommandStat {
  command: string;
  calls: number;
  usec: number;
}

async function commandStats(redis: Redis): Promise<CommandStat[]> {
  const info = await redis.info('commandstats');
  const out: CommandStat[] = [];
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
    out.push({ command: m[1] as string, calls: Number(m[2]), usec: Number(m[3]) });
  return out.sort((a, b) => b.usec - a.usec);
}

/** Redis's work for a stretch of the run: commands, their time, and the server's CPU. */
export interface RedisWork {
  calls: number;
  /** Bytes Redis read from and wrote to its clients over the stretch (INFO stats). */
  netInputBytes: number;
  netOutputBytes: number;
  commandUsec: number;
  cpuMs: number;
  top: CommandStat[];
  slowlog: Array<{ usec: number; command: string }>;
  /**
   * With BENCH_REDIS_PROFILE=1 (every command in SLOWLOG): Redis's time by call, a script named by
   * its SHA's first 8 characters and the kind of its first key, so one script's cost (all the
   * commands it runs) shows as one line, which INFO commandstats cannot show. The commands a script
   * runs are logged too and appear again on their own lines: do not sum the lines.
   */
  byCall?: CommandStat[];
}

/** How many SLOWLOG entries Redis keeps while BENCH_REDIS_PROFILE=1 (a stretch's every top-level call). */
export const PROFILE_SLOWLOG_LEN = 2_000_000;

/** Resets Redis's counters; call `finish()` after the stretch to read them. */
export async function measureRedisWork(redis: Redis, options: { byCall?: boolean } = {}): Promise<{ finish(): Promise<RedisWork> }> {
  await redis.config('RESETSTAT');
  await redis.slowlog('RESET');
  const cpuBefore = await cpuSeconds(redis);
  const netBefore = await netBytes(redis);
  return {
    finish: async () => {
      const cpuMs = ((await cpuSeconds(redis)) - cpuBefore) * 1000;
      const netAfter = await netBytes(redis);
      const stats = (await commandStats(redis)).filter((s) => !BENCH_COMMANDS.has(s.command));
      const slow = (await redis.slowlog('GET', 10)) as Array<[number, number, number, string[]]>;
      return {
        calls: stats.reduce((n, s) => n + s.calls, 0),
        netInputBytes: netAfter.input - netBefore.input,
        netOutputBytes: netAfter.output - netBefore.output,
        commandUsec: stats.reduce((n, s) => n + s.usec, 0),
        cpuMs,
        top: stats.slice(0, 8),
        slowlog: slow.map((e) => ({ usec: e[2], command: e[3].slice(0, 4).join(' ').slice(0, 120) })),
        ...(options.byCall ? { byCall: await timeByCall(redis) } : {}),
      };
    },
  };
}

async function timeByCall(redis: Redis): Promise<CommandStat[]> {
  const entries = (await redis.slowlog('GET', PROFILE_SLOWLOG_LEN)) as Array<[number, number, number, string[]]>;
  const byWhat = new Map<string, CommandStat>();
  for (const [, , usec, args] of entries) {
    const name = (args[0] ?? '').toLowerCase();
    if (BENCH_COMMANDS.has(name)) continue;
    // EVALSHA sha numkeys key...: the script, and what its first key is (which queue or store).
    const what = name === 'evalsha' ? `evalsha ${(args[1] ?? '').slice(0, 8)} ${keyKind(args[3] ?? '')}` : name;
    const stat = byWhat.get(what) ?? { command: what, calls: 0, usec: 0 };
    stat.calls += 1;
    stat.usec += usec;
    byWhat.set(what, stat);
  }
  return [...byWhat.values()].sort((a, b) => b.usec - a.usec);
}

/** A key's name with its ids replaced, so keys of one kind group together. */
function keyKind(key: string): string {
  return key
    .replace(/\b(evt|dlv|ep|sub|key)_[0-9A-Za-z_-]+/g, '$1_*')
    .replace(/:key:[0-9a-f]{64}$/, ':key:<sha256>')
    .replace(/:\d+$/, ':<job id>');
}

export interface KeyKindUsage {
  kind: string;
  keys: number;
  bytes: number;
}

/**
 * Where Redis's memory is, by kind of key (MEMORY USAGE of every key, SAMPLES 0 = exact). The sum is
 * below INFO used_memory's growth by the keyspace's own dict entries and allocator slack.
 */
export async function memoryByKeyKind(redis: Redis): Promise<KeyKindUsage[]> {
  const kinds = new Map<string, KeyKindUsage>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    const sizes = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const kind = keyKind(key);
      const entry = kinds.get(kind) ?? { kind, keys: 0, bytes: 0 };
      entry.keys++;
      entry.bytes += Number(sizes[i]?.[1] ?? 0);
      kinds.set(kind, entry);
    });
  } while (cursor !== '0');
  return [...kinds.values()].sort((a, b) => b.bytes - a.bytes);
}
