/**
 * An `eventTypes` pattern split into its segments, one object per distinct text among endpoints
 * routed together, so a router tells a pattern shared by several endpoints by identity. `build` and
 * `slot`: which router last filed it and where, written only while that router is built
 * (TypeRouter's constructor, which runs to its end before any other can start).
 */
export class SplitPattern {
  build = 0;
  slot = 0;
  readonly trailing: boolean;

  constructor(readonly segments: readonly string[]) {
    this.trailing = segments[segments.length - 1] === '*';
  }
}

/** One endpoint's patterns, split, in their order; `*` (every type) is told apart. */
export interface EndpointPatterns {
  everything: boolean;
  patterns: readonly SplitPattern[];
}

/** The SplitPatterns of endpoints routed together (one subscriber's), by text. */
type PatternScope = Map<string, SplitPattern>;

/**
 * A scope also holds the texts its endpoints held before they changed: it is left for a new one once
 * it holds more than twice a list's patterns and this many, so what it keeps stays in proportion to
 * what the subscriber has and starting over costs a rebuild once in that many new patterns.
 */
const SCOPE_SLACK = 1000;

/**
 * Each endpoint's patterns split once, kept per `eventTypes` array (never changed once routed): the
 * store hands out the same endpoint objects, so the same arrays, until that endpoint changes, and
 * reads a changed one anew (EndpointStore.listAll). Keyed on the array rather than the endpoint, so
 * a copy of an endpoint with other fields changed keeps its split.
 */
const kept = new WeakMap<readonly string[], EndpointPatterns & { scope: PatternScope }>();

/**
 * The patterns of each endpoint of a list, split, a text shared by two of them one SplitPattern.
 * Only arrays not seen before are split (or ones last split in another scope): building a router
 * split every pattern of every endpoint, which was most of what it cost (100 endpoints of 100
 * distinct 16-segment patterns, 12-16 ms), paid by the next publish or replay after any PATCH of an
 * endpoint, its description too (an audit: a loop of PATCHes and replays refused with 400).
 * Telling shared texts apart in a Map of each router's took another ~1.2 ms there; by identity, ~0.25 ms.
 */
export function splitPatternsOf(lists: ReadonlyArray<readonly string[]>): EndpointPatterns[] {
  const known = lists.map((eventTypes) => kept.get(eventTypes));
  // A list differs from the one before by an endpoint or a few: most of it is in that one's scope.
  const last = known.find((k) => k !== undefined)?.scope;
  const patterns = lists.reduce((n, eventTypes) => n + eventTypes.length, 0);
  const scope = last && last.size <= 2 * patterns + SCOPE_SLACK ? last : new Map<string, SplitPattern>();
  return lists.map((eventTypes, i) => {
    const k = known[i];
    return k?.scope === scope ? k : splitInto(scope, eventTypes);
  });
}

function splitInto(scope: PatternScope, eventTypes: readonly string[]): EndpointPatterns {
  let everything = false;
  const patterns: SplitPattern[] = [];
  for (const text of eventTypes) {
    if (text === '*') {
      everything = true;
      continue;
    }
    let pattern = scope.get(text);
    if (!pattern) scope.set(text, (pattern = new SplitPattern(text.split('.'))));
    patterns.push(pattern);
  }
  const split = { scope, everything, patterns };
  kept.set(eventTypes, split);
  return split;
}
