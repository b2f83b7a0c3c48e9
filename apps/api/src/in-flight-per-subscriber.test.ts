import { InFlightPerSubscriber } from './subscriber-limits';

describe('InFlightPerSubscriber', () => {
  it("holds each subscriber to its own max, refusing with the kind's 429, and frees a place once per release", () => {
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
    release(); // twice is harmless: it must not free a place someone else holds
    const again = recovers.take('sub_a');
    expect(() => recovers.take('sub_a')).toThrow(expect.objectContaining({ status: 429 }));
    again();
    other();
  });
});
