import type Redis from 'ioredis';
import type { SecretBox } from '@hookrelay/secrets';

export interface StoreOptions {
  redis: Redis;
  /** @defaultValue 'hookrelay' */
  prefix?: string;
  /** How long events, deliveries and attempts are kept. @defaultValue 30 days */
  retentionMs?: number;
  /** Injected clock, epoch ms. @defaultValue Date.now */
  now?: () => number;
  /**
   * Seals the secrets of endpoints and sources on write and opens them on read
   * (HOOKRELAY_ENCRYPTION_KEYS). @defaultValue a box without keys: secrets stored as plain text
   */
  secrets?: SecretBox;
}

export const DEFAULT_RETENTION_MS = 30 * 24 * 3600 * 1000;
