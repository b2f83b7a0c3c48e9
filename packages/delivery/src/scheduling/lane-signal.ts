import type Redis from 'ioredis';
import type { Logger } from '@hookrelay/observability';
import type { LaneClass, LaneStore } from '@hookrelay/store';

export interface LaneSignalOptions {
  lanes: LaneStore;
  /** A connection of its own: BLPOP blocks it, and `stop` closes it. */
  redis: Redis;
  logger: Logger;
  /** The lane class whose lanes deliveries joined. */
  onSignal: (laneClass: LaneClass) => void;
  /** How long one wait blocks. @defaultValue 1000 */
  blockMs?: number;
}

/**
 * Waits for publishers' signals that deliveries joined a lane (create-event.lua pushes one) and
 * passes each on, so a delivery published to an idle service is admitted at once rather than on
 * the admission pump's next tick. One worker takes each signal; the others find the work on their
 * own next run.
 */
export function startLaneSignalListener(options: LaneSignalOptions): { stop(): Promise<void> } {
  let stopped = false;
  const blockMs = options.blockMs ?? 1000;
  const done = (async () => {
    while (!stopped) {
      try {
        const laneClass = await options.lanes.waitForWork(options.redis, blockMs);
        if (laneClass) options.onSignal(laneClass);
      } catch (err) {
        if (stopped) break;
        options.logger.warn({ err: (err as Error).message }, 'scheduler.signal_failed');
        await new Promise((resolve) => setTimeout(resolve, blockMs));
      }
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      // Fails the BLPOP in flight at once rather than after up to blockMs.
      options.redis.disconnect();
      await done;
    },
  };
}
