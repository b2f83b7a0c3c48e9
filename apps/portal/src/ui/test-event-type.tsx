import { useState } from 'preact/hooks';
import type { EventTypeInfo } from '../lib/api-types';
import { byNamespace, isSendable } from '../lib/catalog';

export const DEFAULT_TEST_TYPE = 'hookrelay.test';

/**
 * Which type "Send test event" sends, from the live catalog (GET /v1/event-types): `hookrelay.test`
 * (a small marker), or any current type, whose first example the API sends as the payload, so the
 * receiver sees what a real one looks like. The types the endpoint subscribes to come first, the
 * rest by namespace; archived types are not offered, deprecated ones are marked.
 */
export function TestEventTypeSelect(props: {
  catalog: EventTypeInfo[];
  patterns: string[];
  value: string;
  onChange: (type: string) => void;
  disabled?: boolean;
}) {
  const [id] = useState(() => `test-type-${Math.random().toString(36).slice(2, 8)}`);
  const sendable = props.catalog.filter(isSendable);
  const matching = sendable.filter((t) => props.patterns.some((p) => matches(p, t.type)));
  const groups = byNamespace(sendable.filter((t) => !matching.includes(t)));
  const option = (t: EventTypeInfo) => (
    <option key={t.type} value={t.type}>
      {t.type}
      {t.deprecated ? ' (deprecated)' : ''}
    </option>
  );
  return (
    <div class="field test-type">
      <label for={id}>Test event type</label>
      <select
        id={id}
        value={props.value}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.currentTarget.value)}
        aria-describedby={`${id}-hint`}
      >
        <option value={DEFAULT_TEST_TYPE}>{DEFAULT_TEST_TYPE}</option>
        {matching.length > 0 && <optgroup label="Types this endpoint receives">{matching.map(option)}</optgroup>}
        {groups.map(([namespace, types]) => (
          <optgroup key={namespace} label={namespace}>
            {types.map(option)}
          </optgroup>
        ))}
      </select>
      <p class="hint" id={`${id}-hint`}>
        A catalog type is sent with its first example as the payload.
      </p>
    </div>
  );
}

/** The API's pattern rule (`*` a whole word, a trailing `*` also deeper): enough to sort the list. */
function matches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  const p = pattern.split('.');
  const t = type.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '*' && i === p.length - 1) return t.length >= p.length;
    if (p[i] !== '*' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}
