import { jobsOf } from './admission-pump';

describe('jobsOf', () => {
  const admitted = (deliveryId: string, endpointId: string, ticket = 1, manual = false) => ({
    jobId: `${deliveryId}-${ticket}`,
    deliveryId,
    ticket,
    eventId: `evt_${deliveryId}`,
    endpointId,
    manual,
  });

  it("makes one job of each run of one endpoint's admissions, named after its first delivery's ticket", () => {
    expect(jobsOf([admitted('d1', 'ep_a'), admitted('d2', 'ep_a', 3, true), admitted('d3', 'ep_b'), admitted('d4', 'ep_a')])).toEqual([
      {
        jobId: 'd1-1',
        data: {
          endpointId: 'ep_a',
          deliveries: [
            { id: 'd1', eventId: 'evt_d1', ticket: 1 },
            { id: 'd2', eventId: 'evt_d2', ticket: 3, manual: true },
          ],
        },
      },
      { jobId: 'd3-1', data: { endpointId: 'ep_b', deliveries: [{ id: 'd3', eventId: 'evt_d3', ticket: 1 }] } },
      { jobId: 'd4-1', data: { endpointId: 'ep_a', deliveries: [{ id: 'd4', eventId: 'evt_d4', ticket: 1 }] } },
    ]);
    expect(jobsOf([])).toEqual([]);
  });
});
