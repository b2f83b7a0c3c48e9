import { useState } from 'preact/hooks';
import type { EventTypeInfo } from '../lib/api-types';

/** Types a test may not send: Hookrelay's own notices (the API refuses them). */
const NOT_SENDABLE = new Set(['endpoint.disabled']);
export const DEFAULT_TEST_TYPE = 'hookrelay.test';

/**
 * The event type a "Send test event" sends, from the catalog (GET /v1/event-types): a built-in type
 * goes out with its catalog example as the payload, so the receiver sees what a real one looks
 * like; `hookrelay.test` is a small marker. The types the endpoint subscribes to come first.
 */
export function TestEventPicker(props: { catalog: EventTypeInfo[]; patterns: string[]; value: string; onChange: (type: string) => void; disabled?: boolean }) {
  const [id] = useState(() => `test-type-${Math.random().toString(36).slice(2, 8)}`);
  const sendable = props.catalog.filter((t) => !NOT_SENDABLE.has(t.type) && t.type !== DEFAULT_TEST_TYPE);
  const matching = sendable.filter((t) => props.patterns.some((p) => matches(p, t.type)));
  const others = sendable.filter((t) => !matching.includes(t));
  return (
    <div class="field test-type">
      <label for={id}>Test event type</label>
      <select id={id} value={props.value} disabled={props.disabled} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value={DEFAULT_TEST_TYPE}>{DEFAULT_TEST_TYPE} (test marker)</option>
        {matching.length > 0 && (
          <optgroup label="Types this endpoint receives">
            {matching.map((t) => (
              <option key={t.type} value={t.type}>
                {t.type}
              </option>
            ))}
          </optgroup>
        )}
        {others.length > 0 && (
          <optgroup label="Other types">
            {others.map((t) => (
              <option key={t.type} value={t.type}>
                {t.type}
              </option>
            ))}
          </optgroup>
        )}
      </select>
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
