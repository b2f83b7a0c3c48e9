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

describe('CatalogListing', () => {
  it('answers a filter with the JSON of its types, as res.json would write the same list', () => {
    const listing = new CatalogListing('v1', VIEWS);
    const parse = (filter: { prefix?: string; includeArchived?: boolean }) => JSON.parse(listing.body(filter).body.toString('utf8'));
    expect(listing.body({}).body.toString('utf8')).toBe(JSON.stringify({ data: VIEWS.filter((v) => !v.archived) }));
    expect(parse({ includeArchived: true })).toEqual({ data: VIEWS });
    expect(parse({ prefix: 'a.' }).data.map((v: EventTypeView) => v.type)).toEqual(['a.one']);
    expect(parse({ prefix: 'a', includeArchived: true }).data.map((v: EventTypeView) => v.type)).toEqual(['a.one', 'a.two', 'ab.three']);
    expect(parse({ prefix: 'c' })).toEqual({ data: [] });
    expect(parse({ prefix: 'a.one.' })).toEqual({ data: [] });
  });

  it('keeps each answer: a repeat is the same bytes, not made again', () => {
    const listing = new CatalogListing('v1', VIEWS);
    const first = listing.body({ prefix: 'a' });
    expect(listing.body({ prefix: 'a' }).body).toBe(first.body);
    // A prefix naming the same types is the same answer.
    expect(listing.body({ prefix: 'a', includeArchived: false }).body).toBe(first.body);
    expect(listing.body({}).body).not.toBe(first.body);
  });

  it('tags answers by the types they hold', () => {
    const listing = new CatalogListing('v1', VIEWS);
    const tags = [{}, { includeArchived: true }, { prefix: 'a' }, { prefix: 'b' }].map((f) => listing.body(f).etag);
    expect(new Set(tags).size).toBe(4);
    // Another version with the same types holds the same bytes: the same tag.
    expect(new CatalogListing('v2', VIEWS).body({}).etag).toBe(tags[0]);
    expect(new CatalogListing('v3', [...VIEWS.slice(0, 3), view('b.four', true)]).body({}).etag).not.toBe(tags[0]);
  });

  it('keeps at most its bound of bodies, the least recently used going first', () => {
    const big = Array.from({ length: 4 }, (_, i) => ({ ...view(`t${i}.x`), description: 'd'.repeat(1000) }));
    const listing = new CatalogListing('v1', big, { keptBodyBytes: 2500 });
    const t0 = listing.body({ prefix: 't0' });
    const t1 = listing.body({ prefix: 't1' });
    expect(listing.body({ prefix: 't0' }).body).toBe(t0.body);
    listing.body({ prefix: 't2' });
    // t1 was used least recently: made again; t0 kept.
    expect(listing.body({ prefix: 't1' }).body).not.toBe(t1.body);
    expect(listing.body({ prefix: 't1' }).body.equals(t1.body)).toBe(true);
    // A body over the bound is made each time and never kept.
    const all = listing.body({});
    expect(all.body.length).toBeGreaterThan(2500);
    expect(listing.body({}).body).not.toBe(all.body);
  });
});
