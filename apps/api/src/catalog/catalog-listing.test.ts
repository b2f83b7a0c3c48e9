import { CatalogListing } from './catalog-listing';
import type { EventTypeView } from './live-catalog';

function view(type: string, archived = false): EventTypeView {
  return {
    type,
    description: `${type} happened`,
    schema: { type: 'object' },
    example: null,
    examples: [],
    deprecated: false,
    archived,
    builtIn: false,
  };
}

const VIEWS = [view('a.one'), view('a.two', true), view('ab.three'), view('b.four')];

/** The answer's bytes as one. */
function bytesOf(listing: CatalogListing, filter: { prefix?: string; includeArchived?: boolean }): Buffer {
  const { parts, length } = listing.answer(filter);
  const joined = Buffer.concat(parts);
  expect(joined.length).toBe(length);
  return joined;
}

describe('CatalogListing', () => {
  it('answers a filter with the JSON of its types, as res.json would write the same list', () => {
    const listing = new CatalogListing(VIEWS);
    const parse = (filter: { prefix?: string; includeArchived?: boolean }) => JSON.parse(bytesOf(listing, filter).toString('utf8'));
    expect(bytesOf(listing, {}).toString('utf8')).toBe(JSON.stringify({ data: VIEWS.filter((v) => !v.archived) }));
    expect(bytesOf(listing, { includeArchived: true }).toString('utf8')).toBe(JSON.stringify({ data: VIEWS }));
    expect(parse({ prefix: 'a.' }).data.map((v: EventTypeView) => v.type)).toEqual(['a.one']);
    expect(parse({ prefix: 'a', includeArchived: true }).data.map((v: EventTypeView) => v.type)).toEqual(['a.one', 'a.two', 'ab.three']);
    expect(parse({ prefix: 'c' })).toEqual({ data: [] });
    expect(parse({ prefix: 'a.one.' })).toEqual({ data: [] });
    expect(bytesOf(new CatalogListing([]), {}).toString('utf8')).toBe('{"data":[]}');
  });

  it('answers every filter from one body per version: nothing is copied per request', () => {
    // Over 4 KB, so the body is a buffer of its own rather than a slice of Node's pool.
    const big = Array.from({ length: 10 }, (_, i) => ({ ...view(`t.${i}`, i === 3), description: 'd'.repeat(1000) }));
    const listing = new CatalogListing(big);
    const bodyOf = (filter: { prefix?: string; includeArchived?: boolean }) => listing.answer(filter).parts[1]!.buffer;
    const withArchived = bodyOf({ includeArchived: true });
    expect(bodyOf({ prefix: 't.2', includeArchived: true })).toBe(withArchived);
    const live = bodyOf({});
    expect(live).not.toBe(withArchived);
    expect(bodyOf({ prefix: 't.5' })).toBe(live);
    expect(bodyOf({ prefix: 't.' })).toBe(live);
    // With no archived type, both ways of listing are the same body.
    const allLive = new CatalogListing(big.slice(4));
    expect(allLive.answer({}).parts[1]!.buffer).toBe(allLive.answer({ includeArchived: true }).parts[1]!.buffer);
  });

  it('tags answers by the types they hold', () => {
    const listing = new CatalogListing(VIEWS);
    const tags = [{}, { includeArchived: true }, { prefix: 'a' }, { prefix: 'b' }].map((f) => listing.answer(f).etag);
    expect(new Set(tags).size).toBe(4);
    // The same types by another filter, or in another version's listing: the same bytes, the same tag.
    expect(listing.answer({ prefix: 'b', includeArchived: true }).etag).toBe(tags[3]);
    expect(new CatalogListing(VIEWS).answer({}).etag).toBe(tags[0]);
    expect(new CatalogListing([...VIEWS.slice(0, 3), view('b.four', true)]).answer({}).etag).not.toBe(tags[0]);
  });
});
