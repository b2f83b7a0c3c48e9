import { useApiHarness } from './api-harness';

// A record is checked entry by entry and a strict object names every unknown key, so one body of
// 10,000 keys (what the body's key limit lets through) made 10,000 problems, a 0.9-1.8 MB 400 and
// up to ~130 ms of the shared API's event loop, charged to nothing (an audit's probe). Records are
// now counted before any entry is checked, and a 400 lists at most 50 problems of bounded length.

const manyKeys = (n: number, value: unknown) => Object.fromEntries(Array.from({ length: n }, (_, i) => [` bad ${i}`, value]));

describe('a 400 for a body with many problems', () => {
  const h = useApiHarness({ worker: false });
  let sid: string;
  beforeAll(async () => {
    sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'many problems' } })).body.id as string;
  });

  it("counts an endpoint's custom headers before checking them: one problem for 9,990", async () => {
    const res = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
      body: { url: 'https://example.com/hook', headers: manyKeys(9_990, 0) },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'headers', message: 'at most 50 custom headers' }]);
  });

  it("counts a source's matches and verification headers before checking them", async () => {
    const keys = manyKeys(9_990, 0);
    const res = await h.call('POST', `/v1/subscribers/${sid}/sources`, {
      body: { name: 'x', eventType: 'source.x', verification: { type: 'header', headers: keys }, matches: keys },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: 'verification.headers', message: 'at most 10 headers' },
      { path: 'matches', message: 'at most 20 matches' },
    ]);
  });

  it('lists the first 50 problems and counts the rest', async () => {
    // 50 headers (within the count), each with a bad name and a bad value: 100 problems.
    const headers = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`bad name ${i}`, 'a\nb']));
    const res = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'https://example.com/hook', headers } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toHaveLength(50);
    expect(res.body.error.details[0]).toEqual({ path: 'headers.bad name 0', message: expect.stringMatching(/HTTP token/) });
    expect(res.body.error.message).toMatch(/\(and 50 more problems\)$/);
  });

  it("cuts one problem's message: an unknown key each of 9,990", async () => {
    const res = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
      body: { url: 'https://example.com/hook', ...Object.fromEntries(Array.from({ length: 9_990 }, (_, i) => [`unknown${i}`, 1])) },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: '(body)', message: expect.stringMatching(/^unknown fields: unknown0, unknown1, .*\.\.\.$/) },
    ]);
    expect(res.body.error.details[0].message.length).toBeLessThanOrEqual(503);
    expect(JSON.stringify(res.body).length).toBeLessThan(4000);
  });
});
