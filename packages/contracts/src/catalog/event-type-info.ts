import type { z } from 'zod';

/** One built-in event type: what it means, the payload it carries, and a payload that passes. */
export interface EventTypeInfo {
  /** Dot-separated name, e.g. `receipt.sms.delivered`; matches EVENT_TYPE_RE. */
  type: string;
  /** One line for humans, shown by GET /v1/event-types. */
  description: string;
  /** Validates the payload a publisher sends for this type (the whole body receivers get). */
  schema: z.ZodType;
  /** A realistic payload that passes `schema`; a test checks every one. */
  example: unknown;
}

/** A problem found while validating an event, in the API's 400 format (path + message). */
export interface EventPayloadIssue {
  path: (string | number)[];
  message: string;
}

export type EventPayloadValidation = { ok: true } | { ok: false; issues: EventPayloadIssue[] };

/**
 * Freezes a JSON-like value all the way down. Catalog entries and examples are shared by every
 * request, so a handler that mutated one would change what the next caller sees.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
