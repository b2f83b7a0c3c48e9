import type Redis from 'ioredis';

type Command = Parameters<Redis['sendCommand']>[0];

export interface ScriptCall {
  keys: number;
  name?: string;
  keyNames: string[];
  sentAt: number;
  answeredAt?: number;
}

export interface CommandWatch {
  /** Commands the connection sent while watched (a transaction's each, MULTI and EXEC included). */
  readonly sent: number;
  /** Of those, how many were each command (lower case: `evalsha`, `hgetall`). */
  count(name: string): number;
  /**
   * Script calls (EVAL, EVALSHA) sent, with the keys each named and, for a command defined on the
   * connection (`defineCommand`), its name (`hookrelayReopenDeliveries`); the key names, and when
   * it was sent and answered (performance.now(); answeredAt undefined until it is).
   */
  readonly scriptCalls: ReadonlyArray<ScriptCall>;
  /** The most script calls that were waiting for their answers at once. */
  readonly maxScriptsAtOnce: number;
  /** Bytes of the strings in the answers of the calls of one defined command (`hookrelayLoadForAttempts`), answered so far. */
  answerBytes(name: string): number;
  stop(): void;
}

/**
 * Watches what one ioredis connection sends, from inside the client: other suites share the test
 * Redis, so its own counters (INFO commandstats) would count their commands too. For tests that
 * assert how a piece of work talks to Redis: how many commands, how many scripts at once.
 */
export function watchCommands(redis: Redis): CommandWatch {
  const counts = new Map<string, number>();
  const scriptCalls: ScriptCall[] = [];
  // ioredis keeps what defineCommand defined by name, each with its script's SHA1.
  const defined = (redis as unknown as { scriptsSet?: Record<string, { sha?: string }> }).scriptsSet ?? {};
  const nameOf = (sha: unknown): string | undefined => Object.entries(defined).find(([, script]) => script.sha === sha)?.[0];
  let sent = 0;
  let waiting = 0;
  let maxScriptsAtOnce = 0;
  const answered = new Map<string, number>();
  const original = redis.sendCommand;
  redis.sendCommand = function watched(this: Redis, command: Command, ...rest: unknown[]) {
    const name = command.name.toLowerCase();
    sent++;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (name === 'evalsha' || name === 'eval') {
      const keys = Number(command.args[1]);
      const call: ScriptCall = {
        keys,
        name: name === 'evalsha' ? nameOf(command.args[0]) : undefined,
        keyNames: command.args.slice(2, 2 + keys).map(String),
        sentAt: performance.now(),
      };
      scriptCalls.push(call);
      waiting++;
      maxScriptsAtOnce = Math.max(maxScriptsAtOnce, waiting);
      const done = () => {
        waiting--;
        call.answeredAt = performance.now();
      };
      command.promise.then(done, done);
      const script = name === 'evalsha' ? nameOf(command.args[0]) : undefined;
      if (script !== undefined) {
        command.promise.then(
          (reply: unknown) => answered.set(script, (answered.get(script) ?? 0) + stringBytes(reply)),
          () => undefined,
        );
      }
    }
    return (original as (...args: unknown[]) => unknown).call(this, command, ...rest);
  };
  return {
    get sent() {
      return sent;
    },
    count: (name) => counts.get(name) ?? 0,
    answerBytes: (name) => answered.get(name) ?? 0,
    scriptCalls,
    get maxScriptsAtOnce() {
      return maxScriptsAtOnce;
    },
    stop: () => {
      redis.sendCommand = original;
    },
  };
}

/** Bytes of the strings in a reply, nested arrays included. */
function stringBytes(reply: unknown): number {
  if (typeof reply === 'string') return Buffer.byteLength(reply);
  if (Buffer.isBuffer(reply)) return reply.length;
  if (Array.isArray(reply)) return reply.reduce((sum: number, r: unknown) => sum + stringBytes(r), 0);
  return 0;
}
