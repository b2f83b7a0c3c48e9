import { createHash } from 'node:crypto';
import type { EventTypeView } from './live-catalog';

/** A listing's answer: the JSON body `{"data": [...]}` and its entity tag. */
export interface ListingBody {
  body: Buffer;
  etag: string;
}

/** Bytes of listing bodies kept per catalog version, besides the types' own JSON. @defaultValue for `keptBodyBytes` */
const KEPT_BODY_BYTES = 64 * 1024 * 1024;

/**
 * `GET /v1/event-types` of one catalog version, as bytes. Any key may list the catalog, and a full
 * one (1,000 types, 16 MB of schemas and examples, each type's first example twice) answers with
 * ~30 MB of JSON: serialised, copied and hashed per request, each GET held the API's event loop
 * ~330 ms, so two clients listing in a loop raised another subscriber's publish p99 from 8 to 303
 * ms, and 40 sockets that never read their answer held ~30 MB each (an audit's probe). Each type's
 * JSON is now written once per version, a body once per filter (the types are sorted by name, so
 * a filter is a range of them, archived ones left out or not) and kept within KEPT_BODY_BYTES, and
 * every caller of the same range is sent the same bytes.
 */
export class CatalogListing {
  private readonly types: ReadonlyArray<{ type: string; archived: boolean; json: string; digest: string }>;
  private readonly bodies = new Map<string, ListingBody>();
  private keptBytes = 0;
  private readonly keptBodyBytes: number;

  /** `views` sorted by type. */
  constructor(
    readonly version: string,
    views: readonly EventTypeView[],
    options: { keptBodyBytes?: number } = {},
  ) {
    this.keptBodyBytes = options.keptBodyBytes ?? KEPT_BODY_BYTES;
    this.types = views.map((view) => {
      const json = JSON.stringify(view);
      return { type: view.type, archived: view.archived, json, digest: createHash('sha1').update(json).digest('base64') };
    });
  }

  body(filter: { prefix?: string; includeArchived?: boolean }): ListingBody {
    const [from, to] = this.range(filter.prefix);
    const key = `${filter.includeArchived ? 'all' : 'live'} ${from} ${to}`;
    const kept = this.bodies.get(key);
    if (kept) {
      // Most recently used last, so the oldest goes first when room is made.
      this.bodies.delete(key);
      this.bodies.set(key, kept);
      return kept;
    }
    const picked = this.types.slice(from, to).filter((t) => filter.includeArchived || !t.archived);
    const body = Buffer.from(`{"data":[${picked.map((t) => t.json).join(',')}]}`);
    // The same types give the same bytes: the tag is their digests', computed without reading the body again.
    const etag = `W/"${createHash('sha1')
      .update(picked.map((t) => t.digest).join(','))
      .digest('base64url')}"`;
    const made = { body, etag };
    if (body.length <= this.keptBodyBytes) {
      for (const [oldest, old] of this.bodies) {
        if (this.keptBytes + body.length <= this.keptBodyBytes) break;
        this.bodies.delete(oldest);
        this.keptBytes -= old.body.length;
      }
      this.bodies.set(key, made);
      this.keptBytes += body.length;
    }
    return made;
  }

  /** The types whose names start with `prefix`: a range of the sorted list, [from, to). */
  private range(prefix: string | undefined): [number, number] {
    if (!prefix) return [0, this.types.length];
    const from = this.firstAtOrAfter(prefix);
    let to = from;
    while (to < this.types.length && this.types[to]!.type.startsWith(prefix)) to++;
    return [from, to];
  }

  private firstAtOrAfter(name: string): number {
    let low = 0;
    let high = this.types.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.types[mid]!.type < name) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
