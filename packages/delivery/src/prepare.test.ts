import { buildEndpoint, buildEvent } from '@hookrelay/testing';
import { prepareDelivery } from './prepare';

describe('prepareDelivery', () => {
  it('leaves out hop-by-hop and framing headers an endpoint stored before registration refused them', () => {
    const endpoint = buildEndpoint({
      url: 'https://hooks.example.com/x',
      headers: { Expect: '100-continue', TE: 'trailers', 'Keep-Alive': 'timeout=5', 'X-Team': 'payments' },
    });
    const request = prepareDelivery(endpoint, buildEvent(), { id: 'dl_1' }, 1, { userAgent: 'Hookrelay/test', nowMs: 1_700_000_000_000 });
    for (const name of ['expect', 'te', 'keep-alive']) expect(Object.keys(request.headers).map((n) => n.toLowerCase())).not.toContain(name);
    expect(request.headers['X-Team']).toBe('payments');
    expect(request.headers['x-hookrelay-attempt']).toBe('1');
  });

  it('sends the custom headers as they are when none is hop-by-hop', () => {
    const headers = { 'X-Team': 'payments', 'X-Region': 'eu' };
    const request = prepareDelivery(buildEndpoint({ url: 'https://hooks.example.com/x', headers }), buildEvent(), { id: 'dl_1' }, 2, {
      userAgent: 'Hookrelay/test',
      nowMs: 1_700_000_000_000,
    });
    expect(request.headers).toMatchObject(headers);
  });
});
