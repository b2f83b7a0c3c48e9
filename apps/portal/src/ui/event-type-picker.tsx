import { useState } from 'preact/hooks';
import type { EventTypeInfo } from '../lib/api-types';

/** `receipt.sms.delivered` -> `receipt.*`, `receipt.sms.*`: the group patterns the catalog offers. */
function groupPatterns(catalog: EventTypeInfo[]): string[] {
  const groups = new Set<string>();
  for (const { type } of catalog) {
    const parts = type.split('.');
    for (let i = 1; i < parts.length; i++) groups.add(`${parts.slice(0, i).join('.')}.*`);
  }
  return [...groups].sort();
}

/**
 * The endpoint's event-type patterns as removable chips, a text box (with the catalog as
 * suggestions) to add any pattern, and the catalog itself to browse and add from.
 */
export function EventTypePicker(props: { value: string[]; onChange: (v: string[]) => void; catalog: EventTypeInfo[]; invalid?: boolean }) {
  const [draft, setDraft] = useState('');
  const [filter, setFilter] = useState('');
  const add = (pattern: string) => {
    const p = pattern.trim();
    if (p && !props.value.includes(p)) props.onChange([...props.value, p]);
  };
  const needle = filter.trim().toLowerCase();
  const shown = props.catalog.filter(
    (t) => !needle || t.type.toLowerCase().includes(needle) || t.description.toLowerCase().includes(needle),
  );
  return (
    <fieldset class={props.invalid ? 'field-invalid' : ''}>
      <legend>Event types</legend>
      <p class="hint" id="event-types-hint">
        Patterns: <code>*</code> is everything, <code>incident.*</code> a group. None chosen means <code>*</code>.
      </p>
      <ul class="chips plain-list" aria-label="Chosen event types">
        {props.value.length === 0 && <li class="muted">all events (*)</li>}
        {props.value.map((p) => (
          <li key={p} class="chip">
            <code>{p}</code>
            <button
              type="button"
              class="chip-remove"
              aria-label={`Remove ${p}`}
              onClick={() => props.onChange(props.value.filter((x) => x !== p))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <div class="add-row">
        <label for="event-type-input" class="visually-hidden">
          Add an event-type pattern
        </label>
        <input
          id="event-type-input"
          list="event-type-options"
          placeholder="e.g. incident.* or receipt.sms.delivered"
          value={draft}
          aria-describedby="event-types-hint"
          onInput={(e) => setDraft(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add(draft);
              setDraft('');
            }
          }}
        />
        <button
          type="button"
          onClick={() => {
            add(draft);
            setDraft('');
          }}
        >
          Add
        </button>
        <datalist id="event-type-options">
          <option value="*" />
          {groupPatterns(props.catalog).map((g) => (
            <option key={g} value={g} />
          ))}
          {props.catalog.map((t) => (
            <option key={t.type} value={t.type}>
              {t.description}
            </option>
          ))}
        </datalist>
      </div>
      <details class="catalog">
        <summary>Browse the catalog ({props.catalog.length} types)</summary>
        <label for="catalog-filter">Filter the catalog</label>
        <input id="catalog-filter" type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        <ul class="plain-list catalog-list">
          {shown.map((t) => (
            <li key={t.type}>
              <button
                type="button"
                class="link-button"
                onClick={() => add(t.type)}
                disabled={props.value.includes(t.type)}
                aria-label={`Add ${t.type}`}
              >
                <code>{t.type}</code>
              </button>{' '}
              <span class="muted">{t.description}</span>
            </li>
          ))}
        </ul>
      </details>
    </fieldset>
  );
}
