import type { IncomingHttpHeaders } from 'node:http';
import { builtInNamespaceOf, EVENT_TYPE_RE, isCustomEventType, validateEventPayload } from '@hookrelay/contracts';
import { matchPathProblem, parsePathOnBudget, StepBudget, valuesAtSteps, type PathStep } from './match';

/**
 * A source's `eventType` is either fixed or a template.
 *
 * - Fixed: `source.<...>` or `custom.<...>`, e.g. `source.jira.issue`.
 * - Template: literal text with placeholders filled from the request: `{<JSONPath>}` reads the
 *   payload (`stripe.{$.type}`), `{header:<Name>}` a request header (`github.{header:X-GitHub-Event}`).
 *   A placeholder ending in `?` is optional: when it has no value it is left out with the dot
 *   before it (`github.{header:X-GitHub-Event}.{$.action?}` names a push `github.push` and an opened
 *   pull request `github.pull_request.opened`). Its first segment must be literal and must not be a
 *   catalog namespace (incident, receipt, message, call, in any case), so a resolved type can never
 *   name a built-in type.
 *
 * Header values are sanitised into dotted segments: lower-cased, `/` made a dot (Shopify's
 * `orders/create` becomes `orders.create`), at most 100 characters read. Payload values are used as
 * they are. How the published payload is checked: built-in types have catalog schemas, and the rules
 * above keep sources out of them. A resolved `custom.*` type is validated like any `custom.*` event
 * (the payload must be a JSON object); `source.*` types and template namespaces carry the sender's
 * body as it came and bypass the catalog schemas. A resolved type must still be a valid dotted type
 * (EVENT_TYPE_RE, at most 200 characters), or the request is ignored with that reason.
 */
export type TemplatePart = { literal: string } | { path: string; optional: boolean } | { header: string; optional: boolean };
export type EventTypeTemplate = TemplatePart[];

const FIXED_RE = /^(source|custom)(\.[A-Za-z0-9_-]+)+$/;
/** An HTTP header name (RFC 9110 token), as source-input.ts accepts them. */
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const MAX_PLACEHOLDERS = 5;
const MAX_TYPE_LENGTH = 200;
/** Longer header values are not read into a type (a type is 200 characters at most anyway). */
export const MAX_TEMPLATE_HEADER_LENGTH = 100;

function placeholder(inner: string): TemplatePart {
  const optional = inner.endsWith('?');
  const text = (optional ? inner.slice(0, -1) : inner).trim();
  const header = /^header:(.*)$/i.exec(text);
  return header ? { header: (header[1] ?? '').trim().toLowerCase(), optional } : { path: text, optional };
}

/** Splits `github.{$.action}` into literals and placeholders; null when a brace is unbalanced. */
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
    parts.push(placeholder(rest.slice(open + 1, end).trim()));
    rest = rest.slice(end + 1);
  }
  return parts;
}

function placeholderProblem(part: TemplatePart, before: TemplatePart | undefined): string | null {
  if ('literal' in part) return null;
  const shown = 'header' in part ? `{header:${part.header}}` : `{${part.path}}`;
  if ('header' in part && !HEADER_NAME_RE.test(part.header)) return `${shown}: must name an HTTP header, e.g. {header:X-GitHub-Event}`;
  if ('path' in part) {
    const problem = matchPathProblem(part.path);
    if (problem) return `${shown}: ${problem}`;
  }
  if (part.optional && !(before && 'literal' in before && before.literal.endsWith('.')))
    return `${shown}: an optional placeholder must follow a dot, e.g. github.{header:X-GitHub-Event}.{$.action?}`;
  return null;
}

/** Why `eventType` cannot be used for a source, or null when it can. */
export function eventTypeProblem(eventType: string): string | null {
  const parts = parseEventTypeTemplate(eventType);
  if (!parts) return 'has an unbalanced { or }';
  const placeholders = parts.filter((p) => !('literal' in p));
  if (placeholders.length === 0) {
    return FIXED_RE.test(eventType)
      ? null
      : 'a fixed type must be under source. or custom. (e.g. source.jira.issue), or use a template such as github.{$.action}';
  }
  if (placeholders.length > MAX_PLACEHOLDERS) return `at most ${MAX_PLACEHOLDERS} {placeholders}`;
  for (const [i, part] of parts.entries()) {
    const problem = placeholderProblem(part, parts[i - 1]);
    if (problem) return problem;
  }
  const first = parts[0];
  const firstSegment = first && 'literal' in first ? (first.literal.split('.')[0] ?? '') : '';
  if (!first || !('literal' in first) || !first.literal.includes('.') || firstSegment === '') {
    return 'a template must start with a literal segment and a dot, e.g. github.{$.action}';
  }
  // In any case: a source published `Endpoint.disabled` when this compared case-sensitively.
  if (builtInNamespaceOf(firstSegment))
    return `"${firstSegment}." is a built-in namespace (in any case); start the template with your own, e.g. github.{$.action}`;
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

type HeaderValue = { ok: true; value: string | null } | { ok: false; reason: string };

/** A header's value as a type segment: lower-cased, `/` as a dot; null when absent or empty. */
function headerSegment(headers: IncomingHttpHeaders, name: string): HeaderValue {
  const raw = headers[name];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) return { ok: true, value: null };
  if (value.length > MAX_TEMPLATE_HEADER_LENGTH)
    return { ok: false, reason: `eventType: header ${name} is longer than ${MAX_TEMPLATE_HEADER_LENGTH} characters` };
  return { ok: true, value: value.toLowerCase().replaceAll('/', '.') };
}

/** A template's part as a request evaluates it: a path placeholder's steps parsed, or null for a path outside the subset. */
type CompiledPart = Exclude<TemplatePart, { path: string }> | { path: string; optional: boolean; steps: PathStep[] | null };

/**
 * A source's `eventType` parsed for one request, on its budget (charged the template's length and
 * each path's), so that a split SendGrid body's elements share one parse instead of one each.
 */
export interface CompiledEventType {
  parts: CompiledPart[];
}

export function compileEventType(eventType: string, budget: StepBudget): CompiledEventType {
  budget.take(eventType.length);
  const parts = parseEventTypeTemplate(eventType) ?? [{ literal: eventType }];
  return {
    parts: parts.map((part) => {
      if (!('path' in part)) return part;
      const parsed = parsePathOnBudget(part.path, budget);
      return { ...part, steps: 'steps' in parsed ? parsed.steps : null };
    }),
  };
}

/**
 * The type one request publishes as; a template takes the first value at each path, within the
 * request's step budget, and header values from `headers` (Node's, names lower-cased). Pass
 * compileEventType's result when typing several elements of one request.
 */
export function resolveEventType(
  eventType: string | CompiledEventType,
  payload: unknown,
  budget: StepBudget = new StepBudget(),
  headers: IncomingHttpHeaders = {},
): ResolvedEventType {
  const { parts } = typeof eventType === 'string' ? compileEventType(eventType, budget) : eventType;
  let type = '';
  for (const part of parts) {
    if ('literal' in part) {
      type += part.literal;
      continue;
    }
    let value: string | null;
    if ('header' in part) {
      const read = headerSegment(headers, part.header);
      if (!read.ok) return read;
      value = read.value;
    } else {
      // A stored path outside the subset selects nothing, as valuesAt answers for one.
      value = part.steps ? segmentValue(valuesAtSteps(part.steps, payload, budget)[0]) : null;
      if (budget.exhausted) return { ok: false, reason: `eventType: ${budget.reason}` };
    }
    if (value === null && part.optional) {
      // Left out with the dot before it (eventTypeProblem makes sure there is one).
      type = type.slice(0, -1);
      continue;
    }
    if (value === null)
      return {
        ok: false,
        reason: 'header' in part ? `eventType: no ${part.header} header` : `eventType: no text or number at ${part.path}`,
      };
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
