import { z } from 'zod';
import type { EventTypeInfo } from './event-type-info';

/**
 * Events Hookrelay itself publishes about a subscriber's own setup. Subscribers receive them like
 * any other type, on any endpoint whose patterns match (an endpoint that was just disabled does not
 * get its own notice).
 */
export const OPERATIONAL_EVENTS = ['endpoint.disabled', 'hookrelay.test'] as const;

export const endpointDisabledPayloadSchema = z.looseObject({
  endpointId: z.string().min(1),
  url: z.string(),
  /** `gone` (the receiver answered 410), `failing` (the circuit breaker), or `manual`. */
  reason: z.enum(['gone', 'failing', 'manual']),
  detail: z.string().optional(),
  disabledAt: z.string(),
});

export const testEventPayloadSchema = z.looseObject({ type: z.string(), test: z.literal(true), endpointId: z.string() });

export function operationalEventTypes(): EventTypeInfo[] {
  return [
    {
      type: 'endpoint.disabled',
      description: 'Hookrelay disabled one of the subscriber’s endpoints (HTTP 410 from the receiver, or too many failed deliveries).',
      schema: endpointDisabledPayloadSchema,
      example: {
        endpointId: 'ep_01m850y11wpbyt8g8a8mmj9m9t',
        url: 'https://hooks.example.com/webex',
        reason: 'failing',
        detail: '50 consecutive failed deliveries since 2026-11-22T09:00:00.000Z',
        disabledAt: '2026-11-23T09:00:00.000Z',
      },
    },
    {
      type: 'hookrelay.test',
      description: 'A test event sent on request (POST .../endpoints/:eid/test).',
      schema: testEventPayloadSchema,
      example: { type: 'hookrelay.test', test: true, endpointId: 'ep_01m850y11wpbyt8g8a8mmj9m9t', sentAt: '2026-11-23T09:00:00.000Z' },
    },
  ];
}
