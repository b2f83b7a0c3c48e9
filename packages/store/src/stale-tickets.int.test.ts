import { buildEndpoint, buildEvent } from '@hookrelay/testing';
import { pendingDelivery } from './index';
import { useTestStore } from './test-store';

/**
 * Attempts recorded by a job whose ticket is no longer its delivery's (record-attempts.lua): one
 * from before a person's retry reopened the delivery, or a stalled job's second run. Each keeps
 * its place in the history without moving what the delivery's current job decides.
 */
describe("attempts whose job no longer holds its delivery's ticket", () => {
  const db = useTestStore('stale-tickets');

  describe('a delivery reopened while an attempt of the job before is in flight', () => {
    /**
     * A delivery whose endpoint was disabled while its first attempt ran (the disable fails it and
     * takes it out of the scheduler), then retried by a person: the old job's attempt is still to
     * be recorded, under the ticket the delivery had before.
     */
    async function reopenedMidAttempt() {
      const event = buildEvent();
      const endpoint = buildEndpoint({ url: 'http://127.0.0.1:9/' });
      const [[created] = []] = await db.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }]);
      const id = created!.id;
      const before = pendingDelivery(id, event, endpoint.id, event.createdAt);
      const oldTicket = (await db.store.lanes.entry(id))!.ticket;
      expect(await db.store.deliveries.endOpen([before], [id], 'endpoint_disabled')).toBe(1);
      expect(await db.store.lanes.entry(id)).toBeNull();
      expect(await db.store.deliveries.reopen([{ id, attempts: 0 }], ['failed'])).toEqual([id]);
      const newTicket = (await db.store.lanes.entry(id))!.ticket;
      /** An attempt as the worker records it: a 200 delivers, a 400 fails for good, any other status asks for a retry. */
      const record = (ticket: number, statusCode: number, startedAt: number) => {
        const outcome = statusCode === 200 ? 'delivered' : statusCode === 400 ? 'failed' : 'retry';
        return db.store.deliveries.recordAttempt(
          before,
          { attempt: 1, startedAt, durationMs: 1, outcome, statusCode, requestHeaders: {} },
          outcome === 'delivered'
            ? { state: 'delivered', attempts: 1, lastStatusCode: 200 }
            : outcome === 'failed'
              ? { state: 'failed', attempts: 1, lastStatusCode: 400, failureReason: 'HTTP 400' }
              : { state: 'retrying', attempts: 1, nextAttemptAt: Date.now() + 60_000, lastStatusCode: statusCode },
          { endpointId: endpoint.id, ok: statusCode === 200, final: outcome === 'retry' ? 'none' : outcome },
          { ticket, lane: 'fast', pace: 'prompt' },
        );
      };
      return {
        id,
        oldTicket,
        newTicket,
        old: (status: number) => record(oldTicket, status, 10),
        retry: (status: number) => record(newTicket, status, 20),
      };
    }

    it("gets a ticket (its job's id) that no job of its earlier life had", async () => {
      const { oldTicket, newTicket } = await reopenedMidAttempt();
      expect(oldTicket).toBe(1);
      expect(newTicket).not.toBe(oldTicket);
      // A second life of another delivery does not start where this one did.
      const other = await reopenedMidAttempt();
      expect(other.newTicket).not.toBe(newTicket);
    });

    it("keeps the old attempt recorded first without moving the state, then records the retry's as the next attempt and ends it", async () => {
      const d = await reopenedMidAttempt();
      expect((await d.old(503)).countedElsewhere).toBe(true);
      // Still pending: the retry asked for is on its way, and no retry of the old job's is promised.
      const meanwhile = await db.store.deliveries.get(d.id);
      expect(meanwhile).toMatchObject({ state: 'pending', attempts: 1, lastStatusCode: 503 });
      expect(meanwhile).not.toHaveProperty('nextAttemptAt');
      expect((await db.store.lanes.entry(d.id))!.ticket).toBe(d.newTicket);

      // The retry's job read the record before that attempt was recorded: it too says attempt 1.
      expect((await d.retry(200)).countedElsewhere).toBe(false);
      expect(await db.store.deliveries.get(d.id)).toMatchObject({ state: 'delivered', attempts: 2, lastStatusCode: 200 });
      // Recorded while the delivery was open again: a retry (the person's) did follow it.
      expect((await db.store.deliveries.attempts(d.id)).map((a) => [a.attempt, a.statusCode, a.outcome])).toEqual([
        [1, 503, 'retry'],
        [2, 200, 'delivered'],
      ]);
      expect(await db.store.lanes.entry(d.id)).toBeNull();
    });

    it("is delivered when the old attempt, recorded after the retry's failure, had delivered it", async () => {
      const d = await reopenedMidAttempt();
      expect((await d.retry(400)).countedElsewhere).toBe(false);
      expect(await db.store.deliveries.get(d.id)).toMatchObject({ state: 'failed', attempts: 1 });
      // The receiver took the old attempt's request: the delivery is delivered, counted where it failed.
      expect((await d.old(200)).countedElsewhere).toBe(true);
      const after = await db.store.deliveries.get(d.id);
      expect(after).toMatchObject({ state: 'delivered', attempts: 2, lastStatusCode: 200 });
      expect(after).not.toHaveProperty('failureReason');
      expect((await db.store.deliveries.attempts(d.id)).map((a) => [a.attempt, a.statusCode, a.outcome])).toEqual([
        [1, 400, 'failed'],
        [2, 200, 'delivered'],
      ]);
    });

    it("adds the old attempt recorded after the retry's to the history without moving the state, and still knows a repeat", async () => {
      const d = await reopenedMidAttempt();
      expect((await d.retry(200)).countedElsewhere).toBe(false);
      expect(await db.store.lanes.entry(d.id)).toBeNull();
      expect((await d.old(503)).countedElsewhere).toBe(true);
      expect(await db.store.deliveries.get(d.id)).toMatchObject({ state: 'delivered', attempts: 2, lastStatusCode: 200 });
      // The same call again (a repeat) writes nothing more.
      expect((await d.old(503)).countedElsewhere).toBe(true);
      expect((await d.retry(200)).countedElsewhere).toBe(true);
      // The old attempt's retry was not made (the delivery had ended): failed in the history.
      expect((await db.store.deliveries.attempts(d.id)).map((a) => [a.attempt, a.statusCode, a.outcome])).toEqual([
        [1, 200, 'delivered'],
        [2, 503, 'failed'],
      ]);
      expect(await db.store.deliveries.get(d.id)).toMatchObject({ state: 'delivered', attempts: 2 });
    });
    it('compares a late attempt only with kept attempts that started when it did, and still knows its repeat', async () => {
      const d = await reopenedMidAttempt();
      await d.retry(200);
      // Another late attempt of the same number that started elsewhere is not a repeat of the kept one.
      const kept = await db.redis.lrange(db.store.keys.deliveryAttempts(d.id), 0, -1);
      expect(kept.map((json) => json.slice(0, 26))).toEqual(['{"attempt":1,"startedAt":2']);
      await d.old(503);
      expect((await db.store.deliveries.attempts(d.id)).map((a) => [a.attempt, a.startedAt])).toEqual([
        [1, 20],
        [2, 10],
      ]);
      // And its repeat is known among them: nothing more is kept.
      expect((await d.old(503)).countedElsewhere).toBe(true);
      expect(await db.redis.llen(db.store.keys.deliveryAttempts(d.id))).toBe(2);
    });
  });

  describe("an attempt whose job no longer holds its delivery's ticket, the delivery live under a newer one", () => {
    // Two runs of one job (BullMQ's stalled-job check): one parked the delivery (a new ticket),
    // the other had loaded it already and sent it.
    async function parkedWhileSending(statusCode: number) {
      const event = buildEvent();
      const endpoint = buildEndpoint({ url: 'http://127.0.0.1:9/' });
      const [[created] = []] = await db.store.deliveries.createForEvents([{ event, endpoints: [endpoint] }]);
      const id = created!.id;
      const before = pendingDelivery(id, event, endpoint.id, event.createdAt);
      expect(await db.store.lanes.park(`${id}-1`, Date.now() + 60_000)).toBe(true);
      const answer = await db.store.deliveries.recordAttempt(
        before,
        { attempt: 1, startedAt: 10, durationMs: 1, outcome: statusCode === 200 ? 'delivered' : 'retry', statusCode, requestHeaders: {} },
        statusCode === 200
          ? { state: 'delivered', attempts: 1, lastStatusCode: 200 }
          : { state: 'retrying', attempts: 1, nextAttemptAt: Date.now() + 60_000, lastStatusCode: statusCode },
        { endpointId: endpoint.id, ok: statusCode === 200, final: statusCode === 200 ? 'delivered' : 'none' },
        { ticket: 1, lane: 'fast', pace: 'prompt' },
      );
      return { id, answer };
    }

    it('writes the record whole, with its expiry, when it is the first attempt', async () => {
      const { id, answer } = await parkedWhileSending(503);
      expect(answer.countedElsewhere).toBe(false);
      expect(await db.store.deliveries.get(id)).toMatchObject({ id, attempts: 1, lastStatusCode: 503 });
      expect(await db.redis.pttl(db.store.keys.delivery(id))).toBeGreaterThan(0);
      // The scheduler keeps the parked ticket: the job holding it attempts it.
      expect((await db.store.lanes.entry(id))!.ticket).toBe(2);
    });

    it('moves the state to delivered when the receiver took it, so the next job ends it unsent', async () => {
      const { id } = await parkedWhileSending(200);
      expect(await db.store.deliveries.get(id)).toMatchObject({ id, state: 'delivered', attempts: 1 });
    });
  });
});
