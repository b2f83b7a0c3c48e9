import type Redis from 'ioredis';
import type { LaneMoveOptions } from './delivery-store';

export interface StoreOptions {
  redis: Redis;
  /** @defaultValue 'hookrelay' */
  prefix?: string;
  /** How long events, deliveries and attempts are kept. @defaultValue 30 days */
  retentionMs?: number;
  /** Injected clock, epoch ms. @defaultValue Date.now */
  now?: () => number;
  /** When attempts' pace moves an endpoint between the fast and the slow lane (worker setting). */
  laneMoves?: LaneMoveOptions;
}

export const DEFAULT_RETENTION_MS = 30 * 24 * 3600 * 1000;
