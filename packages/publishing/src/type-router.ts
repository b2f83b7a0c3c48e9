import { splitPatternsOf } from './split-patterns';

/**
 * Which of a subscriber's endpoints an event type goes to, by their `eventTypes` patterns (the rules
 * of matchesEventType, in @hookrelay/contracts). Matching each endpoint's every pattern against
 * each event, as publishing did, cost endpoints x patterns x segments per event: up to 100 x 100
 * patterns of up to 100 segments, 17-37 ms an event, and a batch of 200 events of a type no
 * pattern matched held the shared API process 16 s (none of them made a delivery, so the batch's
 * delivery limit saw nothing).
 *
 * A router is built once per list of endpoints (the store keeps a list until an endpoint changes):
 * each distinct pattern is filed by its length, so a type is checked only against the patterns of
 * its own length and the trailing-`*` ones no longer than it; a type's answer is kept for the next
 * event of that type. An endpoint's patterns are split once for as long as the store keeps it
 * (splitPatternsOf): the router of a list in which one endpoint changed splits only that one's. What
 * a lookup costs is counted in `steps` (a pattern checked, a segment compared, an endpoint marked),
 * so a caller can bound a request's work (Publisher.publish).
 */
export class TypeRouter<E extends { eventTypes: readonly string[] }> {
  /** Patterns without a trailing `*`, by their number of segments: they match types of that length. */
  private readonly exact = new Map<number, CompiledPattern[]>();
  /** Patterns ending in `*`: they match types at least as long. */
  private readonly open: CompiledPattern[] = [];
  /** Endpoints subscribed to `*`: every type. */
  private readonly everything: number[] = [];
  private readonly answers = new Map<string, readonly E[]>();

  constructor(private readonly endpoints: readonly E[]) {
    const build = ++builds;
    const filed: CompiledPattern[] = [];
    splitPatternsOf(endpoints.map((e) => e.eventTypes)).forEach(({ everything, patterns }, index) => {
      if (everything) this.everything.push(index);
      for (const pattern of patterns) {
        // A pattern held by an endpoint before this one is checked once, for all of them.
        if (pattern.build === build) {
          filed[pattern.slot]?.endpoints.push(index);
          continue;
        }
        pattern.build = build;
        pattern.slot = filed.length;
        const compiled = { segments: pattern.segments, trailing: pattern.trailing, endpoints: [index] };
        filed.push(compiled);
        if (compiled.trailing) this.open.push(compiled);
        else this.exactOfLength(compiled.segments.length).push(compiled);
      }
    });
  }

  /** The endpoints `type` goes to, in the order given; adds what finding them cost to `cost.steps`. */
  route(type: string, cost: { steps: number }): readonly E[] {
    const known = this.answers.get(type);
    if (known) return known;
    // A new type's answer is built over every endpoint (a mark each, then the list): with 10,000
    // endpoints subscribed to `*`, a batch of 1,000 new types cost 253 ms with no pattern to check
    // (an audit's probe), so each endpoint is a step too.
    cost.steps += this.endpoints.length;
    const have = type.split('.');
    const matched = new Uint8Array(this.endpoints.length);
    for (const index of this.everything) matched[index] = 1;
    const check = (pattern: CompiledPattern, compared: number) => {
      cost.steps += 1;
      for (let i = 0; i < compared; i++) {
        cost.steps += 1;
        const want = pattern.segments[i];
        if (want !== '*' && want !== have[i]) return;
      }
      for (const index of pattern.endpoints) matched[index] = 1;
    };
    for (const pattern of this.exact.get(have.length) ?? []) check(pattern, pattern.segments.length);
    for (const pattern of this.open) {
      cost.steps += 1;
      // A trailing `*` stands for one segment or more.
      if (have.length >= pattern.segments.length) check(pattern, pattern.segments.length - 1);
    }
    const answer = this.endpoints.filter((_, index) => matched[index] === 1);
    if (this.answers.size >= KEPT_ANSWERS) this.answers.clear();
    this.answers.set(type, answer);
    return answer;
  }

  private exactOfLength(length: number): CompiledPattern[] {
    let patterns = this.exact.get(length);
    if (!patterns) this.exact.set(length, (patterns = []));
    return patterns;
  }
}

interface CompiledPattern {
  segments: readonly string[];
  trailing: boolean;
  /** Indexes of the endpoints that hold it. */
  endpoints: number[];
}

/** Routers built so far: which one filed a SplitPattern last. */
let builds = 0;

/** Types whose endpoints a router keeps (it is cleared when full): a subscriber's types are few. */
const KEPT_ANSWERS = 1000;

/** What routerOf routes to: an endpoint's patterns, and whether it takes deliveries. */
interface RoutedEndpoint {
  eventTypes: readonly string[];
  status: string;
}

/**
 * The router of a list's active endpoints (the only ones an event goes to), built once per list:
 * the store hands out the same frozen list until one of the subscriber's endpoints changes, its
 * status included (EndpointStore.listAll).
 */
export function routerOf<E extends RoutedEndpoint>(endpoints: readonly E[]): TypeRouter<E> {
  let router = routers.get(endpoints) as TypeRouter<E> | undefined;
  if (!router) routers.set(endpoints, (router = new TypeRouter(endpoints.filter((e) => e.status === 'active'))));
  return router;
}

const routers = new WeakMap<readonly object[], TypeRouter<RoutedEndpoint>>();
