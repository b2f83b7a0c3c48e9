import type Redis from 'ioredis';
import type { LaneMoveOptions } from './delivery-store';
import type { EventTypeLimits } from './event-type-store';
import type { SecretBox } from '@hookrelay/secrets';

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
  /** Bounds on operator-defined event types. @defaultValue DEFAULT_EVENT_TYPE_LIMITS */
  eventTypeLimits?: Partial<EventTypeLimits>;
  /**
   * Seals the secrets of endpoints and sources on write and opens them on read
   * (HOOKRELAY_ENCRYPTION_KEYS). @defaultValue a box without keys: secrets stored as plain text
   */
  secrets?: SecretBox;
}

export const DEFAULT_RETENTION_MS = 30 * 24 * 3600 * 1000;

/**
 * At most 1,000 operator-defined event types and 16 MB of them together: listing the catalog and
 * each API process's copy of it stay bounded whatever an operator stores.
 */
export const DEFAULT_EVENT_TYPE_LIMITS: EventTypeLimits = { maxTypes: 1000, maxBytes: 16 * 1024 * 1024 };
