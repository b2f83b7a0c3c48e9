import { z } from 'zod';
import type { EventTypeInfo } from './event-type-info';

/**
 * Zenduty outgoing-webhook events (reference/zenduty-outgoing-webhooks.txt): "There are three
 * 'event_type' values sent by Zenduty - 'triggered', 'acknowledged' and 'resolved'."
 */
export const INCIDENT_EVENTS = ['triggered', 'acknowledged', 'resolved'] as const;
export type IncidentEvent = (typeof INCIDENT_EVENTS)[number];

/** `incident.status` per CONTRACTS.md: 1 triggered, 2 acknowledged, 3 resolved. */
export const INCIDENT_STATUS = { triggered: 1, acknowledged: 2, resolved: 3 } as const;

// Every object below is loose, never strict: Zenduty adds fields over time, and a receiver that
// parsed the guide's sample must keep working when Hookrelay relays a newer body unchanged.
// Timestamps stay plain strings: the guide's sample carries microseconds ("...22:47:28.431949Z")
// and promises no format, so rejecting an odd but real timestamp would drop an incident.

/** The guide prints `assigned_to` as an object and several siblings as `None` (null). */
const assigneeSchema = z.looseObject({
  username: z.string(),
  first_name: z.string().nullable().optional(),
  last_name: z.string().nullable().optional(),
  email: z.string().nullable().optional(),
});

/** The sample's service carries a dozen fields (name, unique_id, team, escalation_policy, ...). */
const serviceSchema = z.looseObject({
  name: z.string().optional(),
  unique_id: z.string().optional(),
});

const nullableString = z.string().nullable().optional();

/**
 * The incident. Required: only what a receiver keys on (number, unique_id, title, status); the
 * rest is optional and, where the guide shows `None`, nullable.
 */
const incidentSchema = z.looseObject({
  summary: nullableString,
  incident_number: z.number().int().positive(),
  creation_date: nullableString,
  status: z.literal([INCIDENT_STATUS.triggered, INCIDENT_STATUS.acknowledged, INCIDENT_STATUS.resolved]),
  unique_id: z.string().min(1),
  title: z.string(),
  incident_key: nullableString,
  service: serviceSchema.nullable().optional(),
  priority: z.number().nullable().optional(),
  urgency: z.number().nullable().optional(),
  // The guide only ever shows `None`; a merged incident is named by number or id.
  merged_with: z.union([z.string(), z.number()]).nullable().optional(),
  assigned_to: assigneeSchema.nullable().optional(),
  resolved_date: nullableString,
  acknowledged_date: nullableString,
  context_window_start: nullableString,
  context_window_end: nullableString,
});

/**
 * The whole Zenduty body, `{payload: {event_type, incident}}`. `event_type` is pinned to the
 * catalog type's last segment so `incident.triggered` cannot carry a resolution: endpoints filter
 * on the Hookrelay type, and receivers switch on `event_type`, so the two must agree.
 *
 * `status` is deliberately not cross-checked with `event_type`: Zenduty sends the incident as it
 * is when the webhook fires, and the guide does not promise the two never diverge.
 */
export function incidentPayloadSchema(event: IncidentEvent) {
  return z.looseObject({
    payload: z.looseObject({
      event_type: z.literal(event, { error: `event_type must be "${event}" for incident.${event}` }),
      incident: incidentSchema,
    }),
  });
}

/** Built from the guide's sample, moved forward in time for each event. */
function incidentExample(event: IncidentEvent) {
  const acknowledged = event === 'triggered' ? null : '2024-05-14T09:24:51.208114Z';
  return {
    payload: {
      event_type: event,
      incident: {
        summary: 'p99 latency on /charges above 2 s for 5 minutes',
        incident_number: 60,
        creation_date: '2024-05-14T09:21:07.431949Z',
        status: INCIDENT_STATUS[event],
        unique_id: 'pprkCF8ghaUcFMFT',
        title: 'Payments API latency',
        incident_key: '8Di7LnwobtX4qCb7n',
        service: {
          name: 'Payments',
          creation_date: '2019-03-14T08:36:51.064063Z',
          summary: 'Card and wallet charges',
          description: 'Public payments API',
          unique_id: '9ea1cd16-22fe-45c9-a22d-b74f95305b6d',
          auto_resolve_timeout: 0,
          acknowledgement_timeout: 0,
          status: 1,
          escalation_policy: '5fac37b562834cdaadda2429b1a04f22',
          team: '910825254a64446fae1fb94744ab343b',
        },
        priority: 1,
        urgency: 1,
        merged_with: null,
        assigned_to:
          event === 'triggered'
            ? null
            : { username: 'a80cde9a-3e6a-48de-8a98-1', first_name: 'Dana', last_name: 'Okafor', email: 'dana@example.com' },
        resolved_date: event === 'resolved' ? '2024-05-14T09:52:13.004561Z' : null,
        acknowledged_date: acknowledged,
        context_window_start: null,
        context_window_end: null,
      },
    },
  };
}

const DESCRIPTIONS: Record<IncidentEvent, string> = {
  triggered: 'A Zenduty incident was opened (Zenduty outgoing webhook, event_type "triggered").',
  acknowledged: 'A Zenduty incident was acknowledged by a responder (event_type "acknowledged").',
  resolved: 'A Zenduty incident was resolved (event_type "resolved").',
};

export function incidentEventTypes(): EventTypeInfo[] {
  return INCIDENT_EVENTS.map((event) => ({
    type: `incident.${event}`,
    description: DESCRIPTIONS[event],
    schema: incidentPayloadSchema(event),
    example: incidentExample(event),
  }));
}
