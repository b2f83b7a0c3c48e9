import { requestDigest } from './request-digest';

describe('requestDigest', () => {
  const value = {
    type: 'order.paid',
    payload: { b: [1, 'two', null, true, { y: 2, x: [3.5, -0, 1e21] }], a: { '10': 'ten', '9': 'nine', é: '😀' }, c: [] },
  };

  it('is the digest idempotency keys were stored with before, for the same request', () => {
    // Computed by the implementation before arrays of scalars went to JSON.stringify whole: a key
    // stored then must still match its request's repeat after an upgrade.
    expect(requestDigest(value)).toBe('ymmxtU26XXb-EO_HzFCWMJwN7qOE6lnuprl1193voTA');
  });

  it('ignores key order, at every depth, and tells another payload apart', () => {
    const reordered = {
      type: 'order.paid',
      payload: { c: [], a: { é: '😀', '9': 'nine', '10': 'ten' }, b: [1, 'two', null, true, { x: [3.5, -0, 1e21], y: 2 }] },
    };
    expect(requestDigest(reordered)).toBe(requestDigest(value));
    expect(requestDigest({ ...value, payload: { ...value.payload, c: [0] } })).not.toBe(requestDigest(value));
    expect(requestDigest({ ...value, type: 'order.refunded' })).not.toBe(requestDigest(value));
  });
});
