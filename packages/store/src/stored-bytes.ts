import { join } from 'node:path';
import type Redis from 'ioredis';
import type { Keys } from './keys';
import { laneScript } from './lanes/lane-store';
import { STORED_BYTES_LUA } from './stored-bytes-lua';

const READ = `${STORED_BYTES_LUA}
local now, retention, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local used, recorded = StoredBytes.usage(KEYS[1], now, retention)
return { used, StoredBytes.wait(KEYS[1], now, retention, limit, 1) or -1, recorded }`;

const SET_LIMIT = `${STORED_BYTES_LUA}\n${laneScript(join(__dirname, 'set-stored-bytes-limit.lua'))}`;

type StoredBytesRedis = Redis & {
  hookrelayReadStoredBytes(key: string, nowMs: number, retentionMs: number, limit: number): Promise<[number, number, number]>;
  hookrelaySetStoredBytesLimit(
    key: string,
    limitsKey: string,
    schedPrefix: string,
    nowMs: number,
    retentionMs: number,
    defaultLimit: number,
    subscriberId: string,
  ): Promise<number>;
};

/** What a subscriber has written that Redis keeps for the retention period, against a limit. */
export interface StoredBytesUsage {
  /** Bytes written within the retention period (events, deliveries, attempts), as the scripts count them. */
  usedBytes: number;
  /** Null while it is under the limit (or there is none); else how long until it is under it again. */
  waitMs: number | null;
  /**
   * Whether admission holds its deliveries now: by the limit its last publish or limit change
   * recorded (admit.lua reads that one), which lags a changed server default until either.
   */
  deliveriesHeld: boolean;
}

/**
 * Where admission holds a subscriber's deliveries (stored-bytes.lua's StoredBytes.holdAt): a tenth
 * over the limit its publishes are refused at, so that the deliveries it was told were accepted
 * still get their first attempts.
 */
export function storedBytesHoldAt(limitBytes: number): number {
  return limitBytes + Math.floor(limitBytes / 10);
}

/**
 * Per-subscriber stored bytes (stored-bytes.lua). The writes charge themselves inside their own
 * scripts (create-event.lua, record-attempts.lua); this reads the sum and records a changed limit,
 * so a subscriber held for its bytes (admit.lua) goes again as soon as the admin raises it.
 */
export class StoredBytes {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly retentionMs: number,
  ) {
    if (!('hookrelayReadStoredBytes' in redis)) {
      redis.defineCommand('hookrelayReadStoredBytes', { numberOfKeys: 1, lua: READ });
      redis.defineCommand('hookrelaySetStoredBytesLimit', { numberOfKeys: 2, lua: SET_LIMIT });
    }
  }

  /** What the subscriber has written within the retention period at `nowMs`, against `limitBytes` (0: none). */
  async usage(subscriberId: string, nowMs: number, limitBytes: number): Promise<StoredBytesUsage> {
    const [used, waitMs, recorded] = await (this.redis as StoredBytesRedis).hookrelayReadStoredBytes(
      this.keys.subscriberStoredBytes(subscriberId),
      nowMs,
      this.retentionMs,
      limitBytes,
    );
    const usedBytes = Number(used);
    const recordedLimit = Number(recorded);
    return {
      usedBytes,
      waitMs: Number(waitMs) >= 0 ? Number(waitMs) : null,
      deliveriesHeld: recordedLimit > 0 && usedBytes >= storedBytesHoldAt(recordedLimit),
    };
  }

  /**
   * Records the limit now in force, for admission to hold or release the subscriber by: the admin's
   * own for it (read in the same script, so two changes at once cannot leave a stale one), else
   * `defaultLimitBytes` (0: none). Wakes the subscriber where admission holds it for its bytes.
   */
  async setLimit(subscriberId: string, defaultLimitBytes: number, nowMs: number): Promise<void> {
    await (this.redis as StoredBytesRedis).hookrelaySetStoredBytesLimit(
      this.keys.subscriberStoredBytes(subscriberId),
      this.keys.subscriberLimits(subscriberId),
      this.keys.sched(),
      nowMs,
      this.retentionMs,
      defaultLimitBytes,
      subscriberId,
    );
  }
}
