import { Queue } from 'bullmq';
import type Redis from 'ioredis';

/** The payload every event and every bare job carries: a small order-like JSON object. */
export function benchPayload(seq: number): Record<string, unknown> {
  return { orderId: `ord_${String(seq).padStart(8, '0')}`, amount: { value: 4999, currency: 'EUR' }, seq };
}

export const PAYLOAD_BYTES = Buffer.byteLength(JSON.stringify(benchPayload(0)));

export interface BareJobData {
  id: string;
  path: string;
  payload: Record<string, unknown>;
}

export const BARE_QUEUE_NAME = 'bare';
export const BARE_PREFIX = 'bench';

/** A bare BullMQ queue beside Hookrelay's: same Redis, its own prefix. */
export function createBareQueue(connection: Redis): Queue<BareJobData> {
  return new Queue<BareJobData>(BARE_QUEUE_NAME, { connection, prefix: BARE_PREFIX });
}

/** A bare job; like Hookrelay's, it is removed once done. */
export function bareJob(id: string, seq: number, path = '/bare', payload: Record<string, unknown> = benchPayload(seq)) {
  return { name: 'deliver', data: { id, path, payload }, opts: { removeOnComplete: true } };
}

/** Routes of the express baseline (express-baseline.ts): the one that calls `queue.add`, and the one that does nothing. */
export const EXPRESS_QUEUE_ADD_PATH = '/v1/subscribers/sub_bench/events';
export const EXPRESS_NO_OP_PATH = '/noop/subscribers/sub_bench/events';
