import { CUSTOM_EVENT_TYPE_PREFIX, listEventTypes } from '@hookrelay/contracts';
import { z } from 'zod';

/** At least two dot-separated words: the first is the namespace the portal groups by. */
export const EVENT_TYPE_NAME_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;
export const MAX_EXAMPLES = 10;
/** All of one type's examples together, as JSON. */
export const MAX_EXAMPLES_BYTES = 64 * 1024;

const name = z
  .string()
  .max(200)
  .regex(EVENT_TYPE_NAME_RE, 'must be at least two dot-separated words of letters, digits, _ and -, e.g. order.paid');
const description = z.string().max(2000);
/** Checked by the schema guard (schema-guard.ts), not by zod: its rules are about the schema's meaning. */
const schema = z.unknown();
const examples = z.array(z.unknown()).max(MAX_EXAMPLES);

export const createEventTypeSchema = z
  .object({
    type: name,
    description: description.default(''),
    schema: schema.optional(),
    examples: examples.default([]),
    deprecated: z.boolean().default(false),
  })
  .strict();

export const patchEventTypeSchema = z
  .object({
    description: description.optional(),
    schema: schema.optional(),
    examples: examples.optional(),
    deprecated: z.boolean().optional(),
    /** `false` restores an archived type (DELETE archives it). */
    archived: z.boolean().optional(),
  })
  .strict();

export const listEventTypesQuery = z.object({
  prefix: z.string().max(200).optional(),
  includeArchived: z.enum(['true', 'false']).optional(),
});

/** A type created without a schema takes any JSON object, as custom.* does. */
export const DEFAULT_EVENT_TYPE_SCHEMA = Object.freeze({ type: 'object' });

let reserved: ReadonlySet<string> | undefined;

/**
 * Namespaces an operator cannot define types in: Hookrelay's own (`hookrelay.`, `endpoint.`), the
 * built-in catalog's (kept even while HOOKRELAY_BUILTIN_CATALOG=false, so switching it back on can
 * never meet a clash), `custom.` (free-form by definition) and `source.` (inbound sources' fixed types).
 */
export function reservedNamespace(type: string): string | null {
  reserved ??= new Set([
    ...listEventTypes().map((t) => (t.type.split('.')[0] as string).toLowerCase()),
    CUSTOM_EVENT_TYPE_PREFIX.slice(0, -1),
    'source',
  ]);
  // Compared without case: `Incident.opened` must not pass for a type of the operator's own.
  const namespace = type.split('.')[0] as string;
  return reserved.has(namespace.toLowerCase()) ? namespace : null;
}
