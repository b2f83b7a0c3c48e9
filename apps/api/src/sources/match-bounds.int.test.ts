import { useApiHarness } from '../api-harness';
import type { Source } from './source-input';
import { createSource, eventsOf, historyOf, ingest, useSubscriber } from './source-test-kit';

const TOKEN_HEADER = { type: 'header' as const, headers: { 'x-source-token': 'match-bounds-secret-1' } };
const WITH_TOKEN = { 'x-source-token': 'match-bounds-secret-1' };

/** The 367-byte body of the tenant-isolation report: 60 levels of `{"a":[...]}`. */
function nested60(): string {
  return `${'{"a":['.repeat(30)}1${']}'.repeat(30)}`.padEnd(367, ' ');
}

describe('JSONPath in sources costs a bounded amount of CPU', () => {
  const h = useApiHarness({ worker: false });
  const subscriber = useSubscriber(h, 'all');

  it.each<[string, Record<string, unknown>, string]>([
    ['recursive descent in matches', { matches: { '$..*..*..*..*': 1 } }, 'matches.$..*..*..*..*'],
    ['a union in matches', { matches: { "$['a','a','a','a']": 1 } }, "matches.$['a','a','a','a']"],
    ['a slice in matches', { matches: { '$.a[0:100000]': 1 } }, 'matches.$.a[0:100000]'],
    ['recursive descent in an eventType template', { eventType: 'github.{$..*..*}' }, 'eventType'],
  ])('refuses %s at creation with 400 naming the field', async (_label, change, path) => {
    const res = await h.call('POST', `/v1/subscribers/${subscriber.sid}/sources`, {
      body: { name: 'x', eventType: 'source.x', verification: TOKEN_HEADER, ...change },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path, message: expect.stringMatching(/not supported/) }]);
  });

  it('refuses an expected value over 4 KB of JSON, or over 16 KB together, naming the path; takes one at the bound', async () => {
    const create = (matches: Record<string, unknown>) =>
      h.call('POST', `/v1/subscribers/${subscriber.sid}/sources`, {
        body: { name: 'x', eventType: 'source.x', verification: TOKEN_HEADER, matches },
      });
    // A 4,096-byte value (the string and its two quotes) is taken; a byte more is not.
    expect((await create({ '$.a': 'x'.repeat(4094) })).status).toBe(201);
    const big = await create({ '$.a': 1, '$.b': Array(2100).fill(0) });
    expect(big.status).toBe(400);
    expect(big.body.error.details).toEqual([
      { path: 'matches.$.b', message: 'expected value is 4201 bytes of JSON; at most 4096' },
      { path: 'matches', message: expect.stringMatching(/^expected values hold more than 500 JSON values together/) },
    ]);
    const five = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((k) => [`$.${k}`, 'x'.repeat(3500)]));
    const together = await create(five);
    expect(together.status).toBe(400);
    expect(together.body.error.details).toEqual([
      { path: 'matches', message: 'paths and expected values are 17525 bytes together; at most 16384' },
    ]);
    const source = await createSource(h, subscriber.sid, { eventType: 'source.x', verification: TOKEN_HEADER, matches: { '$.a': 1 } });
    const patched = await h.call('PATCH', `/v1/subscribers/${subscriber.sid}/sources/${source.id}`, { body: { matches: five } });
    expect(patched.status).toBe(400);
    expect((await h.call('GET', `/v1/subscribers/${subscriber.sid}/sources/${source.id}`)).body.matches).toEqual({ '$.a': 1 });
  });

  describe('the record every request to the URL reads', () => {
    const create = (matches: Record<string, unknown>) =>
      h.call('POST', `/v1/subscribers/${subscriber.sid}/sources`, {
        body: { name: 'x', eventType: 'source.x', verification: TOKEN_HEADER, matches },
      });
    /** 20 distinct paths of 480 characters: 9,600 bytes of names. */
    const longPaths = Array.from({ length: 20 }, (_, i) => `$.${String.fromCharCode(97 + i)}${'k'.repeat(477)}`);

    it('counts the path names in the 16 KB, naming matches', async () => {
      // 9,600 bytes of names and 20 values of 352 bytes: 16,640 together, though the values are 7,040.
      const res = await create(Object.fromEntries(longPaths.map((path) => [path, 'v'.repeat(350)])));
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        { path: 'matches', message: 'paths and expected values are 16640 bytes together; at most 16384' },
      ]);
      // Shorter values fit: 9,600 + 20 x 302.
      expect((await create(Object.fromEntries(longPaths.map((path) => [path, 'v'.repeat(300)])))).status).toBe(201);
    });

    it('refuses more than 500 JSON values across the expected values, naming matches; takes 500', async () => {
      // The review's record: 20 values of 270 empty objects (811 bytes each, within every byte limit).
      const emptyObjects = () => Array.from({ length: 270 }, () => ({}));
      const res = await create(
        Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((k) => [`$.${k}`, emptyObjects()])),
      );
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        {
          path: 'matches',
          message:
            'expected values hold more than 500 JSON values together (each object, array, string, number, boolean and null counts one); match a few fields, not a whole document',
        },
      ]);
      const withLongPaths = await create(Object.fromEntries(longPaths.map((path) => [path, emptyObjects()])));
      expect(withLongPaths.status).toBe(400);
      expect(withLongPaths.body.error.details.map((d: { path: string; message: string }) => d.message)).toEqual([
        'paths and expected values are 25820 bytes together; at most 16384',
        expect.stringMatching(/^expected values hold more than 500 JSON values together/),
      ]);
      // A type, an id and a list of states, and 500 values at most: 1 + 1 + (1 + 497).
      const states = Array.from({ length: 497 }, (_, i) => `s${i}`);
      expect((await create({ '$.type': 'issue', '$.id': 7, '$.states': states })).status).toBe(201);
      const source = await createSource(h, subscriber.sid, { eventType: 'source.x', verification: TOKEN_HEADER, matches: { '$.a': 1 } });
      const patched = await h.call('PATCH', `/v1/subscribers/${subscriber.sid}/sources/${source.id}`, {
        body: { matches: { '$.type': 'issue', '$.id': 7, '$.states': [...states, 'one more'] } },
      });
      expect(patched.status).toBe(400);
      expect(patched.body.error.details).toEqual([{ path: 'matches', message: expect.stringMatching(/more than 500 JSON values/) }]);
    });
  });

  it('refuses the same on PATCH and keeps the source as it was', async () => {
    const source = await createSource(h, subscriber.sid, { eventType: 'source.x', verification: TOKEN_HEADER, matches: { '$.a': 1 } });
    const res = await h.call('PATCH', `/v1/subscribers/${subscriber.sid}/sources/${source.id}`, { body: { matches: { '$..a': 1 } } });
    expect(res.status).toBe(400);
    expect((await h.call('GET', `/v1/subscribers/${subscriber.sid}/sources/${source.id}`)).body.matches).toEqual({ '$.a': 1 });
  });

  it('ignores requests to a source saved with such a path before the limit, saying why, without evaluating it', async () => {
    const created = await createSource(h, subscriber.sid, { eventType: 'source.legacy', verification: TOKEN_HEADER });
    // What an older version stored: the path from the report, accepted then.
    const stored = (await h.store.sources.get<Source>(created.id))!;
    const legacy: Source = { ...stored, matches: { '$..*..*..*..*': 1 } };
    await h.store.sources.save(legacy);
    const res = await ingest(h, created.ingestUrl, { body: nested60(), headers: WITH_TOKEN });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ignored' });
    expect((await historyOf(h, subscriber.sid, created.id))[0]).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringMatching(/^matches: \$\.\.\*\.\.\*\.\.\*\.\.\*: recursive descent/),
    });
    expect(await eventsOf(h, subscriber.sid)).toEqual([]);
  });

  it('ignores a request whose matching would take more than the step budget, saying so', async () => {
    const source = await createSource(h, subscriber.sid, {
      eventType: 'source.wide',
      verification: TOKEN_HEADER,
      matches: { '$[*].b[*]': 19_999, "$[*]['b'][*]": 19_999, '$.*.b.*': 19_999, '$[*].b.*': 19_999 },
    });
    const body = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ a: i, b: [i] })));
    const res = await ingest(h, source.ingestUrl, { body, headers: WITH_TOKEN });
    expect(res.status).toBe(200);
    expect((await historyOf(h, subscriber.sid, source.id))[0]).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringMatching(/^matches: more than 200000 steps/),
    });
  });
});
