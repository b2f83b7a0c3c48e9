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

  describe('with weights (the body bytes of requests to sources)', () => {
    it("takes each request's weight, refuses one that would go over the max, and frees that weight once", () => {
      const bodies = new InFlightPerSubscriber(
        1000,
        'bodies_in_flight',
        'bytes of request bodies on their way to its sources',
        new Map(),
        true,
      );
      const first = bodies.take('sub_a', 'body', 600);
      bodies.take('sub_a', 'body', 400);
      expect(bodies.held('sub_a')).toBe(1000);
      expect(() => bodies.take('sub_a', 'body', 1)).toThrow(
        expect.objectContaining({
          status: 429,
          code: 'bodies_in_flight',
          message:
            'the subscriber holds 1000 of 1000 bytes of request bodies on their way to its sources, and this request needs 1 more; retry after one ends',
          headers: { 'retry-after': '1' },
        }),
      );
      first();
      first(); // must not free the 400 the second request holds
      expect(bodies.held('sub_a')).toBe(400);
      expect(() => bodies.take('sub_a', 'body', 601)).toThrow(expect.objectContaining({ code: 'bodies_in_flight' }));
      bodies.take('sub_a', 'body', 600);
      expect([bodies.held('sub_a'), bodies.held('sub_b')]).toEqual([1000, 0]);
    });

    it('lets a subscriber holding none take one request heavier than the max, and nothing beside it', () => {
      const bodies = new InFlightPerSubscriber(100, 'bodies_in_flight', 'bytes', new Map(), true);
      const large = bodies.take('sub_a', 'body', 5000);
      expect(() => bodies.take('sub_a', 'body', 1)).toThrow(expect.objectContaining({ code: 'bodies_in_flight' }));
      large();
      expect(bodies.held('sub_a')).toBe(0);
      bodies.take('sub_a', 'body', 5000);
    });
  });
});
