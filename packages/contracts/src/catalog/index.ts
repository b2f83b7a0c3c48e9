import { z } from 'zod';
import { callEventTypes } from './call';
import { CUSTOM_EVENT_TYPE_ENTRY, customPayloadSchema, isCustomEventType } from './custom';
import { deepFreeze, type EventPayloadIssue, type EventPayloadValidation, type EventTypeInfo } from './event-type-info';
import { incidentEventTypes } from './incident';
import { incomingMessageEventTypes } from './message';
import { operationalEventTypes } from './operational';
import { receiptEventTypes } from './receipt';

export type { EventPayloadIssue, EventPayloadValidation, EventTypeInfo } from './event-type-info';
export { CUSTOM_EVENT_TYPE_PREFIX, isCustomEventType } from './custom';
export { INCIDENT_EVENTS, INCIDENT_STATUS, type IncidentEvent } from './incident';
export { RECEIPT_STATUSES_BY_CHANNEL, type ReceiptChannel } from './receipt';
export { INCOMING_MESSAGE_CHANNELS, type IncomingMessageChannel } from './message';
export { CALL_EVENTS, type CallEvent } from './call';
export { OPERATIONAL_EVENTS } from './operational';

/** Byte-wise order, so the list is the same whatever the server's locale. */
function byType(a: EventTypeInfo, b: EventTypeInfo): number {
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

// Built once at load: it is a pure function of constants, and every publish looks a type up here.
const EVENT_TYPES: readonly EventTypeInfo[] = Object.freeze(
  [...incidentEventTypes(), ...receiptEventTypes(), ...incomingMessageEventTypes(), ...callEventTypes(), ...operationalEventTypes()]
    .sort(byType)
    .map((info) => Object.freeze({ ...info, example: deepFreeze(info.example) })),
);

const BY_TYPE: ReadonlyMap<string, EventTypeInfo> = new Map(EVENT_TYPES.map((info) => [info.type, info]));

/** Every built-in type, sorted by type name. */
export function listEventTypes(): readonly EventTypeInfo[] {
  return EVENT_TYPES;
}

/** The built-in types' namespaces (incident, receipt, message, call, endpoint, hookrelay), lower-case. */
const BUILT_IN_NAMESPACES: ReadonlySet<string> = new Set(EVENT_TYPES.map((info) => (info.type.split('.')[0] as string).toLowerCase()));

/**
 * The built-in namespace `type` is in, compared without case, or null. Without case because a
 * receiver, a log search or a person need not tell `Endpoint.disabled` from `endpoint.disabled`:
 * nobody but Hookrelay may publish in these namespaces, in any spelling.
 */
export function builtInNamespaceOf(type: string): string | null {
  const namespace = (type.split('.')[0] as string).toLowerCase();
  return BUILT_IN_NAMESPACES.has(namespace) ? namespace : null;
}

/** One catalog entry as GET /v1/event-types answers it (operator-defined types add createdAt, updatedAt). */
export interface EventTypeCatalogEntry {
  type: string;
  description: string;
  /** JSON Schema, draft 2020-12. */
  schema: unknown;
  /** The first of `examples` (null when there is none): the field clients had before `examples`. */
  example: unknown;
  examples: unknown[];
  deprecated: boolean;
  archived: boolean;
  /** True for Hookrelay's own types (the Webex Connect and Zenduty catalog, its operational types, `custom.*`). */
  builtIn: boolean;
}

let catalogJson: readonly EventTypeCatalogEntry[] | undefined;

/**
 * JSON-ready built-in catalog for GET /v1/event-types: `[{type, description, schema, example,
 * examples, deprecated, archived, builtIn}]`, the schema as JSON Schema (draft 2020-12, zod's
 * `z.toJSONSchema`), plus one entry describing `custom.*`. Computed on first use, then cached and
 * frozen: converting 70-odd schemas per request is waste, and a caller that mutated the shared array
 * would corrupt every later response.
 *
 * JSON Schema cannot express refinements (the SMS `deliveryStatus` check): the schema states that
 * rule in a `description`, and only validateEventPayload enforces it.
 */
export function eventTypeCatalogJson(): readonly EventTypeCatalogEntry[] {
  catalogJson ??= deepFreeze(
    [...EVENT_TYPES, CUSTOM_EVENT_TYPE_ENTRY].map((info) => ({
      type: info.type,
      description: info.description,
      schema: z.toJSONSchema(info.schema),
      example: info.example,
      examples: [info.example],
      deprecated: false,
      archived: false,
      builtIn: true,
    })),
  );
  return catalogJson;
}

/** The built-in type of that name (operational ones included), if there is one. */
export function builtInEventType(type: string): EventTypeInfo | undefined {
  return BY_TYPE.get(type);
}

function toIssues(error: z.ZodError): EventPayloadIssue[] {
  return error.issues.map((issue) => ({
    path: ['payload', ...issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))],
    message: issue.message,
  }));
}

/**
 * Validate a payload for a type. Built-in types use their schema; `custom.<...>` types accept any
 * JSON object; anything else is one issue at `['type']`. Payload issues are prefixed with
 * `'payload'` so the API can report them against the request body as they are.
 */
export function validateEventPayload(type: string, payload: unknown): EventPayloadValidation {
  const schema = BY_TYPE.get(type)?.schema ?? (isCustomEventType(type) ? customPayloadSchema : undefined);
  if (!schema) {
    return {
      ok: false,
      issues: [
        {
          path: ['type'],
          message: `unknown event type "${type}": use a built-in type (GET /v1/event-types) or one under "custom." such as custom.order.paid`,
        },
      ],
    };
  }
  const result = schema.safeParse(payload);
  return result.success ? { ok: true } : { ok: false, issues: toIssues(result.error) };
}

/**
 * Metrics label for a type. Only catalog names and the two fixed fallbacks can appear, so label
 * cardinality stays bounded however many custom or mistyped names publishers send.
 */
export function eventTypeLabel(type: string): string {
  if (BY_TYPE.has(type)) return type;
  return isCustomEventType(type) ? 'custom' : 'unknown';
}
