import { builtInNamespaceOf, EVENT_TYPE_RE, isCustomEventType, validateEventPayload } from '@hookrelay/contracts';
import { matchPathProblem, StepBudget, valuesAt } from './match';

/**
 * A source's `eventType` is either fixed or a template.
 *
 * - Fixed: `source.<...>` or `custom.<...>`, e.g. `source.jira.issue`.
 * - Template: literal text with `{<JSONPath>}` placeholders filled from the payload, e.g.
 *   `github.{$.action}` or `stripe.{$.type}`. Its first segment must be literal and must not be a
 *   built-in namespace (incident, receipt, message, call, endpoint, hookrelay), in any case, so a resolved type can never name a
 *   built-in type.
 *
 * How the published payload is checked: built-in types have catalog schemas, and the rules above
 * keep sources out of them. A resolved `custom.*` type is validated like any `custom.*` event (the
 * payload must be a JSON object); `source.*` types and template namespaces carry the sender's body
 * as it came and bypass the catalog schemas. A resolved type must still be a valid dotted type
 * (EVENT_TYPE_RE, at most 200 characters), or the request is ignored with that reason.
 */
export type EventTypeTemplate = Array<{ literal: string } | { path: string }>;

const FIXED_RE = /^(source|custom)(\.[A-Za-z0-9_-]+)+$/;
const MAX_PLACEHOLDERS = 5;
const MAX_TYPE_LENGTH = 200;

/** Splits `github.{$.action}` into literals and paths; null when a brace is unbalanced. */
export function parseEventTypeTemplate(template: string): EventTypeTemplate | null {
  const parts: EventTypeTemplate = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    const close = rest.indexOf('}');
    if (open === -1) {
      if (close !== -1) return null;
      parts.push({ literal: rest });
      break;
    }
    if (close !== -1 && close < open) return null;
    if (open > 0) parts.push({ literal: rest.slice(0, open) });
    const end = rest.indexOf('}', open);
    if (end === -1 || rest.slice(open + 1, end).includes('{')) return null;
    parts.push({ path: rest.slice(open + 1, end).trim() });
    rest = rest.slice(end + 1);
  }
  return parts;
}

/** Why `eventType` cannot be used for a source, or null when it can. */
export function eventTypeProblem(eventType: string): string | null {
  const parts = parseEventTypeTemplate(eventType);
  if (!parts) return 'has an unbalanced { or }';
  const paths = parts.filter((p): p is { path: string } => 'path' in p);
  if (paths.length === 0) {
    return FIXED_RE.test(eventType) ? null : 'a fixed type must be under source. or custom. (e.g. source.jira.issue), or use a template such as github.{$.action}';
  }
  if (paths.length > MAX_PLACEHOLDERS) return `at most ${MAX_PLACEHOLDERS} {placeholders}`;
  for (const { path } of paths) {
    const problem = matchPathProblem(path);
    if (problem) return `{${path}}: ${problem}`;
  }
  const first = parts[0];
  const firstSegment = first && 'literal' in first ? (first.literal.split('.')[0] ?? '') : '';
  if (!first || !('literal' in first) || !first.literal.includes('.') || firstSegment === '') {
    return 'a template must start with a literal segment and a dot, e.g. github.{$.action}';
  }
  // In any case: a source published `Endpoint.disabled` when this compared case-sensitively.
  if (builtInNamespaceOf(firstSegment)) return `"${firstSegment}." is a built-in namespace (in any case); start the template with your own, e.g. github.{$.action}`;
  const sample = parts.map((p) => ('literal' in p ? p.literal : 'x')).join('');
  return EVENT_TYPE_RE.test(sample) ? null : 'with its placeholders filled, the template must be dot-separated words';
}

export type ResolvedEventType = { ok: true; type: string } | { ok: false; reason: string };

function segmentValue(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return null;
}

/** The type one request publishes as; a template takes the first value at each path, within the request's step budget. */
export function resolveEventType(eventType: string, payload: unknown, budget: StepBudget = new StepBudget()): ResolvedEventType {
  const parts = parseEventTypeTemplate(eventType) ?? [{ literal: eventType }];
  let type = '';
  for (const part of parts) {
    if ('literal' in part) {
      type += part.literal;
      continue;
    }
    const value = segmentValue(valuesAt(part.path, payload, budget)[0]);
    if (budget.exhausted) return { ok: false, reason: `eventType: ${budget.reason}` };
    if (value === null) return { ok: false, reason: `eventType: no text or number at ${part.path}` };
    type += value;
  }
  if (type.length > MAX_TYPE_LENGTH || !EVENT_TYPE_RE.test(type)) {
    return { ok: false, reason: `eventType: "${type.slice(0, 80)}" is not a dotted event type` };
  }
  return { ok: true, type };
}

/** Null when the payload may be published under `type`; a reason otherwise (see the module comment). */
export function payloadProblem(type: string, payload: unknown): string | null {
  if (!isCustomEventType(type)) return null;
  const verdict = validateEventPayload(type, payload);
  return verdict.ok ? null : `payload: ${verdict.issues.map((i) => i.message).join('; ')}`.slice(0, 200);
}
