import { InFlightPerSubscriber } from './subscriber-limits';

describe('InFlightPerSubscriber', () => {
  it("holds each subscriber to its own max, refusing with the kind's 429", () => {
    const recovers = new InFlightPerSubscriber(1, 'recover_in_flight', 'recover running');
    const release = recovers.take('sub_a');
    expect(() => recovers.take('sub_a')).toThrow(
      expect.objectContaining({
        status: 429,
        code: 'recover_in_flight',
        message: 'the subscriber has 1 recover running at once; retry after one ends',
      }),
    );
    // Another subscriber is counted apart.
    const other = recovers.take('sub_b');
    release();
    recovers.take('sub_a');
    other();
  });

  it('frees one place per request, however often its release is called', () => {
    const sends = new InFlightPerSubscriber(2, 'test_sends_in_flight', 'test sends waiting on their receivers');
    const first = sends.take('sub_a');
    sends.take('sub_a');
    first();
    first(); // must not free the place the second send holds
    sends.take('sub_a');
    expect(() => sends.take('sub_a')).toThrow(expect.objectContaining({ status: 429, code: 'test_sends_in_flight' }));
  });

  it('shares its places with another kind through sharedAs, each refused under its own code', () => {
    const sends = new InFlightPerSubscriber(2, 'test_sends_in_flight', 'test sends and endpoint verifications waiting on their receivers');
    const verifications = sends.sharedAs('verifications_in_flight');
    const send = sends.take('sub_a');
    verifications.take('sub_a', 'verify');
    expect(() => sends.take('sub_a')).toThrow(expect.objectContaining({ status: 429, code: 'test_sends_in_flight' }));
    expect(() => verifications.take('sub_a', 'verify')).toThrow(
      expect.objectContaining({
        status: 429,
        code: 'verifications_in_flight',
        message: 'the subscriber has 2 test sends and endpoint verifications waiting on their receivers at once; retry after one ends',
        details: [{ path: 'verify', message: 'at most 2 at once' }],
      }),
    );
    // A place freed by one kind is the other's to take.
    send();
    verifications.take('sub_a', 'verify');
  });

  it('names the field the caller gives in the 429 (the endpoint by default)', () => {
    const listings = new InFlightPerSubscriber(1, 'listings_in_flight', 'listings running');
    listings.take('sub_a', 'status');
    expect(() => listings.take('sub_a', 'eventType')).toThrow(
      expect.objectContaining({ details: [{ path: 'eventType', message: 'at most 1 at once' }] }),
    );
    expect(() => listings.take('sub_a')).toThrow(
      expect.objectContaining({ details: [{ path: 'endpoint', message: 'at most 1 at once' }] }),
    );
  });
});
