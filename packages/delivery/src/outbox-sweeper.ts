import type { Logger } from '@hookrelay/observability';
import { deliveryJob, type DeliveryQueue } from '@hookrelay/queue';
import type { Store } from '@hookrelay/store';

export interface OutboxSweeperOptions {
  store: Store;
  queue: DeliveryQueue;
  logger: Logger;
  /** How often to look. @defaultValue 10000 */
  intervalMs?: number;
  /** An entry younger than this may still be mid-enqueue; leave it. @defaultValue 30000 */
  graceMs?: number;
  now?: () => number;
}

/**
 * Queues deliveries whose publisher died between recording them and handing them to BullMQ.
 * Re-adding is safe: BullMQ ignores a job id it still holds, and the processor skips a delivery
 * that already ended.
 */
export function startOutboxSweeper(options: OutboxSweeperOptions): { sweep(): Promise<number>; stop(): void } {
  const now = options.now ?? Date.now;
  const sweep = async (): Promise<number> => {
    const ids = await options.store.deliveries.outboxBefore(now() - (options.graceMs ?? 30_000), 500);
    if (ids.length === 0) return 0;
    const deliveries = await options.store.deliveries.getMany(ids);
    const open = deliveries.filter((d) => d.state === 'pending' || d.state === 'retrying');
    if (open.length > 0) {
      await options.queue.addBulk(
        open.map((d) => deliveryJob({ deliveryId: d.id, eventId: d.eventId, endpointId: d.endpointId })),
      );
      options.logger.warn({ count: open.length }, 'outbox.requeued');
    }
    await options.store.deliveries.clearOutbox(ids);
    return open.length;
  };
  const timer = setInterval(() => {
    sweep().catch((err: unknown) => options.logger.error({ err }, 'outbox.sweep_failed'));
  }, options.intervalMs ?? 10_000);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
