import { useEffect, useRef, useState } from 'preact/hooks';
import type { Delivery, Endpoint, EventTypeInfo } from '../lib/api-types';
import { dateTime, fromLocalInput, relativeTime, toLocalInput } from '../lib/format';
import { href, type DeliveryQuery } from '../lib/route';
import type { Api } from './api-client';
import { BreakableUrl, ErrorBanner, PageHeading, StateBadge } from './common';
import { useNow, usePageTitle, usePolling } from './hooks';

/** How often the list asks for new deliveries. */
export const LIVE_INTERVAL_MS = 2000;

/**
 * Deliveries newest first, filtered by endpoint, event type, status and time (kept in the URL
 * fragment). The first page is fetched again every 2 s: new deliveries are added at the top and
 * changed ones updated in place; pages loaded with "Load more" stay as they are.
 */
export function DeliveriesView({ api, filter, catalog }: { api: Api; filter: DeliveryQuery; catalog: EventTypeInfo[] }) {
  usePageTitle('Deliveries');
  const [items, setItems] = useState<Delivery[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [announce, setAnnounce] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState(true);
  const [endpoints, setEndpoints] = useState<Endpoint[]>([]);
  const loadedMore = useRef(false);
  const shown = useRef<Delivery[] | null>(null);
  // Bumped when the filter changes, so an answer to a request made for the old filter is dropped.
  const generation = useRef(0);
  const now = useNow();

  const show = (next: Delivery[] | null) => {
    shown.current = next;
    setItems(next);
  };

  useEffect(() => {
    api.listEndpoints().then(
      (p) => setEndpoints(p.data),
      () => undefined,
    );
  }, [api]);
  useEffect(() => {
    generation.current++;
    loadedMore.current = false;
    show(null);
  }, [api, filter.endpointId, filter.eventType, filter.status, filter.since]);

  usePolling(
    async () => {
      const asked = generation.current;
      try {
        const page = await api.listDeliveries(filter);
        if (asked !== generation.current) return;
        setError(null);
        const current = shown.current;
        if (!loadedMore.current) setCursor(page.nextCursor);
        if (current === null) return show(page.data);
        const known = new Set(current.map((d) => d.id));
        const added = page.data.filter((d) => !known.has(d.id));
        if (added.length) {
          setFresh(new Set(added.map((d) => d.id)));
          setAnnounce(`${added.length} new ${added.length === 1 ? 'delivery' : 'deliveries'}`);
        }
        // Older ones loaded before stay; newer ones missing from the page no longer match the filter.
        const onPage = new Set(page.data.map((d) => d.id));
        const oldest = page.nextCursor ? Math.min(...page.data.map((d) => d.createdAt)) : -Infinity;
        show([...page.data, ...current.filter((d) => !onPage.has(d.id) && d.createdAt < oldest)]);
      } catch (err) {
        if (asked === generation.current) setError(err);
      }
    },
    LIVE_INTERVAL_MS,
    [api, filter.endpointId, filter.eventType, filter.status, filter.since],
    live,
  );

  async function loadMore() {
    if (!cursor) return;
    const asked = generation.current;
    try {
      const page = await api.listDeliveries({ ...filter, cursor });
      if (asked !== generation.current) return;
      loadedMore.current = true;
      const current = shown.current ?? [];
      const known = new Set(current.map((d) => d.id));
      show([...current, ...page.data.filter((d) => !known.has(d.id))]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    }
  }

  const urlOf = new Map(endpoints.map((e) => [e.id, e.url]));
  return (
    <main id="main">
      <div class="page-head">
        <PageHeading>Deliveries</PageHeading>
        <label class="checkbox live-toggle">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> Live updates
        </label>
      </div>
      <DeliveryFilters filter={filter} endpoints={endpoints} catalog={catalog} />
      <ErrorBanner error={error} />
      <p class="visually-hidden" role="status" aria-live="polite">
        {announce}
      </p>
      {items === null && !error && <p role="status">Loading deliveries…</p>}
      {items !== null && items.length === 0 && <div class="card empty">No deliveries match.</div>}
      {items !== null && items.length > 0 && (
        <table class="delivery-table">
          <caption class="visually-hidden">Deliveries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Event type</th>
              <th scope="col">Status</th>
              <th scope="col">Endpoint</th>
              <th scope="col">Created</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last result</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id} class={`delivery-row${fresh.has(d.id) ? ' is-new' : ''}`} data-delivery-id={d.id} data-state={d.state}>
                <td data-label="Event type" class="delivery-type">
                  <a href={href({ name: 'delivery', id: d.id })} class="delivery-link">
                    <code>{d.eventType}</code>
                  </a>
                </td>
                <td data-label="Status">
                  <StateBadge state={d.state} />
                </td>
                <td data-label="Endpoint" class="delivery-endpoint">
                  <BreakableUrl url={urlOf.get(d.endpointId) ?? d.endpointId} />
                </td>
                <td data-label="Created" class="nowrap">
                  <time dateTime={new Date(d.createdAt).toISOString()} title={dateTime(d.createdAt)}>
                    {relativeTime(d.createdAt, now)}
                  </time>
                </td>
                <td data-label="Attempts" class="num">
                  {d.attempts}
                </td>
                <td data-label="Last result" class="nowrap">
                  {d.lastStatusCode !== undefined ? `HTTP ${d.lastStatusCode}` : d.lastErrorKind ? '' : '—'}
                  {d.lastStatusCode !== undefined && d.lastErrorKind ? ' · ' : ''}
                  {d.lastErrorKind && <code class="error-kind">{d.lastErrorKind}</code>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" onClick={loadMore}>
          Load older deliveries
        </button>
      )}
    </main>
  );
}

function DeliveryFilters({ filter, endpoints, catalog }: { filter: DeliveryQuery; endpoints: Endpoint[]; catalog: EventTypeInfo[] }) {
  const [endpointId, setEndpointId] = useState(filter.endpointId ?? '');
  const [eventType, setEventType] = useState(filter.eventType ?? '');
  const [status, setStatus] = useState(filter.status ?? '');
  const [since, setSince] = useState(filter.since ? toLocalInput(filter.since) : '');
  useEffect(() => {
    setEndpointId(filter.endpointId ?? '');
    setEventType(filter.eventType ?? '');
    setStatus(filter.status ?? '');
    setSince(filter.since ? toLocalInput(filter.since) : '');
  }, [filter.endpointId, filter.eventType, filter.status, filter.since]);

  function apply(e: Event) {
    e.preventDefault();
    location.hash = href({ name: 'deliveries', filter: { endpointId, eventType: eventType.trim(), status, since: fromLocalInput(since) } });
  }
  return (
    <form class="card filters" onSubmit={apply} aria-label="Filter deliveries">
      <div class="field">
        <label for="filter-endpoint">Endpoint</label>
        <select id="filter-endpoint" value={endpointId} onChange={(e) => setEndpointId(e.currentTarget.value)}>
          <option value="">All endpoints</option>
          {endpointId && !endpoints.some((e) => e.id === endpointId) && <option value={endpointId}>{endpointId}</option>}
          {endpoints.map((e) => (
            <option key={e.id} value={e.id}>
              {e.url}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="filter-type">Event type</label>
        <input
          id="filter-type"
          list="filter-type-options"
          placeholder="e.g. incident.*"
          value={eventType}
          onInput={(e) => setEventType(e.currentTarget.value)}
        />
        <datalist id="filter-type-options">
          {catalog.map((t) => (
            <option key={t.type} value={t.type} />
          ))}
        </datalist>
      </div>
      <div class="field">
        <label for="filter-status">Status</label>
        <select id="filter-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <option value="">Any</option>
          <option value="pending">pending</option>
          <option value="retrying">retrying</option>
          <option value="delivered">delivered</option>
          <option value="failed">failed</option>
        </select>
      </div>
      <div class="field">
        <label for="filter-since">Since</label>
        <input id="filter-since" type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} />
      </div>
      <div class="button-row">
        <button type="submit" class="primary">
          Apply filters
        </button>
        <a class="button" href={href({ name: 'deliveries', filter: {} })}>
          Clear
        </a>
      </div>
    </form>
  );
}
