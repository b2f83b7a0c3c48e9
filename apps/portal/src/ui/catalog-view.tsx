import { useState } from 'preact/hooks';
import type { EventTypeInfo } from '../lib/api-types';
import { byNamespace, prettyJson } from '../lib/catalog';
import { PageHeading } from './common';
import { usePageTitle } from './hooks';

/**
 * The event catalog a subscriber can subscribe to: every current type grouped by namespace, with
 * its description, its payload's JSON Schema (folded away until asked for) and an example payload.
 * Deprecated types are marked; archived ones are not listed (the API leaves them out).
 */
export function CatalogView({ catalog }: { catalog: EventTypeInfo[] }) {
  usePageTitle('Event types');
  const [filter, setFilter] = useState('');
  const needle = filter.trim().toLowerCase();
  const groups = byNamespace(
    catalog.filter((t) => !needle || t.type.toLowerCase().includes(needle) || t.description.toLowerCase().includes(needle)),
  );
  return (
    <main id="main" class="catalog-page">
      <PageHeading>Event types</PageHeading>
      <p class="muted">
        What can be sent to your endpoints. Subscribe an endpoint to a type, or to a whole namespace with a pattern such as{' '}
        <code>order.*</code>.
      </p>
      <div class="field">
        <label for="catalog-page-filter">Filter event types</label>
        <input id="catalog-page-filter" type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      </div>
      {groups.length === 0 && <p role="status">{catalog.length === 0 ? 'Loading…' : 'No event type matches.'}</p>}
      {groups.map(([namespace, types]) => (
        <section key={namespace} class="card catalog-group" aria-labelledby={`ns-${namespace}`}>
          <h2 id={`ns-${namespace}`}>
            <code>{namespace}.</code>
          </h2>
          <ul class="plain-list">
            {types.map((t) => (
              <li key={t.type} class="catalog-type" data-event-type={t.type}>
                <h3>
                  <code>{t.type}</code> {t.deprecated && <span class="badge badge-deprecated">deprecated</span>}
                </h3>
                {t.description && <p class="catalog-description">{t.description}</p>}
                {t.schema !== undefined && (
                  <details>
                    <summary>Schema</summary>
                    <pre class="code catalog-schema">{prettyJson(t.schema)}</pre>
                  </details>
                )}
                {t.example !== undefined && t.example !== null && (
                  <details open>
                    <summary>Example</summary>
                    <pre class="code catalog-example">{prettyJson(t.example)}</pre>
                  </details>
                )}
              </li>
            ))}
          </ul>
        </section>
      ))}
    </main>
  );
}
