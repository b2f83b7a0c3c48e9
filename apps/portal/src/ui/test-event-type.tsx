import type { EventTypeInfo } from '../lib/api-types';
import { byNamespace, isSendable } from '../lib/catalog';

/**
 * Which type "Send test event" sends, from the live catalog: `hookrelay.test` (a small marker), or
 * any current type, whose first example the API sends as the payload.
 */
export function TestEventTypeSelect(props: { catalog: EventTypeInfo[]; value: string; onChange: (type: string) => void }) {
  const groups = byNamespace(props.catalog.filter(isSendable));
  return (
    <div class="field test-type">
      <label for="test-event-type">Test event type</label>
      <select id="test-event-type" value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)} aria-describedby="test-event-type-hint">
        <option value="hookrelay.test">hookrelay.test</option>
        {groups.map(([namespace, types]) => (
          <optgroup key={namespace} label={namespace}>
            {types.map((t) => (
              <option key={t.type} value={t.type}>
                {t.type}
                {t.deprecated ? ' (deprecated)' : ''}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
      <p class="hint" id="test-event-type-hint">
        A catalog type is sent with its first example as the payload.
      </p>
    </div>
  );
}
