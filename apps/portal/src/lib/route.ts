/**
 * The portal's routes live in the URL fragment (`#/deliveries?status=failed`), so the static server
 * needs no fallback and a link can be shared. The fragment holds ids and filters only: the API key
 * never goes into a URL (it would end up in history, bookmarks and screenshots).
 */
export type Route =
  | { name: 'endpoints' }
  | { name: 'endpoint-new' }
  | { name: 'endpoint'; id: string }
  | { name: 'endpoint-edit'; id: string }
  | { name: 'deliveries'; filter: DeliveryQuery }
  | { name: 'delivery'; id: string }
  | { name: 'catalog' }
  | { name: 'events'; type?: string }
  | { name: 'event'; id: string }
  | { name: 'sources' }
  | { name: 'source-new' }
  | { name: 'source'; id: string; outcome?: string }
  | { name: 'not-found'; path: string };

export interface DeliveryQuery {
  endpointId?: string;
  eventType?: string;
  status?: string;
  /** Epoch ms. */
  since?: number;
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/endpoints';
  const [pathPart = '', queryPart = ''] = raw.split('?', 2);
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  const q = new URLSearchParams(queryPart);
  const [first, second, third] = parts;
  if (first === 'endpoints') {
    if (second === undefined) return { name: 'endpoints' };
    if (second === 'new' && third === undefined) return { name: 'endpoint-new' };
    if (third === undefined) return { name: 'endpoint', id: second };
    if (third === 'edit') return { name: 'endpoint-edit', id: second };
  }
  if (first === 'catalog' && second === undefined) return { name: 'catalog' };
  if (first === 'sources') {
    if (second === undefined) return { name: 'sources' };
    if (second === 'new' && third === undefined) return { name: 'source-new' };
    if (third === undefined) return { name: 'source', id: second, ...(q.get('outcome') ? { outcome: q.get('outcome')! } : {}) };
  }
  if (first === 'deliveries') {
    if (second === undefined) {
      const since = Number(q.get('since'));
      return {
        name: 'deliveries',
        filter: {
          ...(q.get('endpointId') ? { endpointId: q.get('endpointId')! } : {}),
          ...(q.get('eventType') ? { eventType: q.get('eventType')! } : {}),
          ...(q.get('status') ? { status: q.get('status')! } : {}),
          ...(q.get('since') && Number.isFinite(since) ? { since } : {}),
        },
      };
    }
    if (third === undefined) return { name: 'delivery', id: second };
  }
  if (first === 'events') {
    if (second === undefined) return { name: 'events', ...(q.get('type') ? { type: q.get('type')! } : {}) };
    if (third === undefined) return { name: 'event', id: second };
  }
  return { name: 'not-found', path: pathPart };
}

export function href(route: Route): string {
  switch (route.name) {
    case 'endpoints':
      return '#/endpoints';
    case 'endpoint-new':
      return '#/endpoints/new';
    case 'endpoint':
      return `#/endpoints/${encodeURIComponent(route.id)}`;
    case 'endpoint-edit':
      return `#/endpoints/${encodeURIComponent(route.id)}/edit`;
    case 'delivery':
      return `#/deliveries/${encodeURIComponent(route.id)}`;
    case 'catalog':
      return '#/catalog';
    case 'events':
      return `#/events${route.type ? `?${new URLSearchParams({ type: route.type }).toString()}` : ''}`;
    case 'event':
      return `#/events/${encodeURIComponent(route.id)}`;
    case 'deliveries': {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(route.filter)) if (v !== undefined && v !== '') q.set(k, String(v));
      const s = q.toString();
      return `#/deliveries${s ? `?${s}` : ''}`;
    }
    case 'sources':
      return '#/sources';
    case 'source-new':
      return '#/sources/new';
    case 'source':
      return `#/sources/${encodeURIComponent(route.id)}${route.outcome ? `?${new URLSearchParams({ outcome: route.outcome }).toString()}` : ''}`;
    case 'not-found':
      return `#${route.path}`;
  }
}
