import { createHash } from 'node:crypto';
import type { EventTypeView } from './live-catalog';

/** A listing's answer, `{"data":[...]}`: the bytes to write in order, their length and the answer's entity tag. */
export interface ListingAnswer {
  parts: Buffer[];
  length: number;
  etag: string;
}

const OPEN = Buffer.from('{"data":[');
const CLOSE = Buffer.from(']}');
const COMMA = Buffer.from(',');

/** One way of listing (archived types in or out): its types in order and the whole answer, with where each type's JSON sits in it. */
interface Listed {
  names: string[];
  digests: string[];
  body: Buffer;
  starts: number[];
  ends: number[];
}

/**
 * `GET /v1/event-types` of one catalog version, as bytes. Any key may list the catalog, and a full
 * one (1,000 types, 16 MB of schemas and examples, each type's first example twice) answers with
 * ~30 MB of JSON: serialised, copied and hashed per request, each GET held the API's event loop
 * ~330 ms, so two clients listing in a loop raised another subscriber's publish p99 from 8 to 303
 * ms, and 40 sockets that never read their answer held ~30 MB each (an audit's probe).
 *
 * The whole answer is now made once per version, with archived types and without. The types are
 * sorted by name, so the types a prefix picks sit side by side in it, commas included: any answer
 * is its bytes between the first picked type and the last, between the same brackets. Nothing is
 * serialised or copied per request, no filter costs more than another (keeping answers by filter
 * instead, a client rotating three filters had each made again: a review's probe), and every
 * socket holds the same bytes however slowly it reads. Written as separate JSON per type instead,
 * 2,000 writes an answer held the loop longer as the socket drained.
 */
export class CatalogListing {
  private readonly withArchived: Listed;
  private readonly live: Listed;

  /** `views` sorted by type. */
  constructor(views: readonly EventTypeView[]) {
    const types = views.map((view) => {
      const json = Buffer.from(JSON.stringify(view));
      return { name: view.type, archived: view.archived, json, digest: createHash('sha1').update(json).digest('base64') };
    });
    this.withArchived = listed(types);
    this.live = types.some((t) => t.archived) ? listed(types.filter((t) => !t.archived)) : this.withArchived;
  }

  answer(filter: { prefix?: string; includeArchived?: boolean }): ListingAnswer {
    const list = filter.includeArchived ? this.withArchived : this.live;
    const [from, to] = range(list.names, filter.prefix);
    // The same types give the same bytes: the tag is their (fixed-length) digests'.
    const etag = `W/"${createHash('sha1').update(list.digests.slice(from, to).join('')).digest('base64url')}"`;
    const picked = from < to ? list.body.subarray(list.starts[from], list.ends[to - 1]) : Buffer.alloc(0);
    return { parts: [OPEN, picked, CLOSE], length: OPEN.length + picked.length + CLOSE.length, etag };
  }

  /**
   * `GET /v1/event-types/:type`: the type's own bytes in the listing, archived or not; null when
   * the catalog has no such type. Any key may ask, and an admin's type may hold ~130 KB of schema
   * and examples: read, parsed and serialised per request it cost ~1.9 ms of the event loop.
   */
  one(type: string): ListingAnswer | null {
    const list = this.withArchived;
    const [at] = range(list.names, type);
    if (list.names[at] !== type) return null;
    const json = list.body.subarray(list.starts[at], list.ends[at]);
    return { parts: [json], length: json.length, etag: `W/"${list.digests[at]}"` };
  }
}

function listed(types: ReadonlyArray<{ name: string; json: Buffer; digest: string }>): Listed {
  const pieces: Buffer[] = [OPEN];
  const starts: number[] = [];
  const ends: number[] = [];
  let at = OPEN.length;
  for (const [i, t] of types.entries()) {
    if (i > 0) {
      pieces.push(COMMA);
      at += COMMA.length;
    }
    starts.push(at);
    pieces.push(t.json);
    at += t.json.length;
    ends.push(at);
  }
  pieces.push(CLOSE);
  return { names: types.map((t) => t.name), digests: types.map((t) => t.digest), body: Buffer.concat(pieces), starts, ends };
}

/** The names that start with `prefix`, a range of the sorted list: [from, to). */
function range(names: readonly string[], prefix: string | undefined): [number, number] {
  if (!prefix) return [0, names.length];
  let from = 0;
  let high = names.length;
  while (from < high) {
    const mid = (from + high) >>> 1;
    if (names[mid]! < prefix) from = mid + 1;
    else high = mid;
  }
  let to = from;
  while (to < names.length && names[to]!.startsWith(prefix)) to++;
  return [from, to];
}
