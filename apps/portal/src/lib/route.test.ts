import { href, parseRoute, type Route } from './route';

describe('portal routes', () => {
  it('opens the endpoints list by default', () => {
    expect(parseRoute('')).toEqual({ name: 'endpoints' });
    expect(parseRoute('#/')).toEqual({ name: 'not-found', path: '/' });
  });

  it.each<Route>([
    { name: 'endpoints' },
    { name: 'endpoint-new' },
    { name: 'endpoint', id: 'ep_01J' },
    { name: 'endpoint-edit', id: 'ep_01J' },
    { name: 'delivery', id: 'dlv_1' },
    { name: 'deliveries', filter: {} },
    { name: 'deliveries', filter: { endpointId: 'ep_1', eventType: 'incident.*', status: 'failed', since: 1700000000000 } },
    { name: 'events' },
    { name: 'events', type: 'receipt.*.delivered' },
    { name: 'event', id: 'evt_01J' },
    { name: 'sources' },
    { name: 'source-new' },
    { name: 'source', id: 'src_01J' },
    { name: 'source', id: 'src_01J', outcome: 'rejected' },
  ])('reads back what it writes: %o', (route) => {
    expect(parseRoute(href(route))).toEqual(route);
  });

  it('ignores a since that is not a number', () => {
    expect(parseRoute('#/deliveries?since=yesterday')).toEqual({ name: 'deliveries', filter: {} });
  });
});
