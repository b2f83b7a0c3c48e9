import { z } from 'zod';

/**
 * Publishers' own types live under `custom.`, so they can never collide with a type the catalog
 * adds later, and metrics can fold them into one label instead of one series per invented name.
 */
export const CUSTOM_EVENT_TYPE_PREFIX = 'custom.';

/** `custom.` plus at least one segment of the characters EVENT_TYPE_RE allows. */
const CUSTOM_EVENT_TYPE_RE = /^custom(\.[A-Za-z0-9_-]+)+$/;

/** True for `custom.order.paid`; false for `custom`, `custom.` and `custom..x`. */
export function isCustomEventType(type: string): boolean {
  return CUSTOM_EVENT_TYPE_RE.test(type);
}

/**
 * Any JSON object. Arrays and primitives are refused so every body receivers get is an object
 * they can add fields to later without breaking; zod's record rejects arrays by itself.
 */
export const customPayloadSchema = z.record(z.string(), z.unknown(), {
  error: 'a custom.* payload must be a JSON object (not an array or a primitive)',
});

export const CUSTOM_EVENT_TYPE_ENTRY = {
  type: 'custom.*',
  description:
    'Your own event: any type under "custom." with at least one more segment (e.g. custom.order.paid); the payload is any JSON object.',
  schema: customPayloadSchema,
  example: { orderId: 'ord_84213', amount: { value: 4999, currency: 'EUR' }, paidAt: '2024-05-14T09:21:07.000Z' },
};
