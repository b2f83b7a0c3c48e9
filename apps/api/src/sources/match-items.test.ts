import { MATCH_STEP_BUDGET, StepBudget } from './match';
import { matchItems } from './match-items';

/** The name the review's paths select: ~490-character paths, as `matches` allows 500. */
const K = 'k'.repeat(480);

/**
 * The review's hostile source: 20 paths of ~490 characters on one key, each held by every element
 * but the last, so each element is evaluated to its last path and none is published.
 */
function hostileMatches(): Record<string, unknown> {
  const matches: Record<string, unknown> = { [`$.${K}`]: [1], [`$.${K}[*]`]: 1, [`$['${K}']`]: [1] };
  for (let digits = 1; digits <= 9; digits++) matches[`$.${K}[${'0'.repeat(digits)}]`] = 1;
  for (let digits = 1; digits <= 7; digits++) matches[`$['${K}'][${'0'.repeat(digits)}]`] = 1;
  matches[`$["${K}"][*]`] = 2;
  return matches;
}

const HOSTILE = { matches: hostileMatches(), eventType: 'sendgrid.{$.event}' };
const PATH_CHARACTERS = Object.keys(HOSTILE.matches).reduce((n, path) => n + path.length, 0);
/** A signed 1 MB SendGrid array holds about 2,000 such elements (~490 bytes each). */
const element = () => ({ [K]: [1], event: 'open' });

/** Steps the hostile source spends on a body of `count` elements. */
function spentOn(count: number): number {
  const budget = new StepBudget();
  matchItems(HOSTILE, Array.from({ length: count }, element), {}, budget);
  return budget.spent;
}

describe('matching the elements of one request', () => {
  it('parses each path once per request, charged its length, not once per element', () => {
    expect(Object.keys(HOSTILE.matches)).toHaveLength(20);
    const budget = new StepBudget();
    const verdicts = matchItems(HOSTILE, Array.from({ length: 2000 }, element), {}, budget);
    // Every element was evaluated to its last path: none ran out of budget.
    expect(verdicts).toHaveLength(2000);
    const lastPathFails = `matches: ${`$["${K}"][*] does not equal 2`.slice(0, 200)}`;
    expect(new Set(verdicts.map((v) => ('skipped' in v ? v.skipped : v.type)))).toEqual(new Set([lastPathFails]));
    expect(budget.exhausted).toBe(false);
    // Parsing is charged once: an element costs its evaluation only, far less than the paths' text.
    const once = spentOn(1);
    const perElement = spentOn(2) - once;
    expect(once).toBeGreaterThan(PATH_CHARACTERS);
    expect(perElement).toBeLessThan(PATH_CHARACTERS / 10);
    expect(budget.spent).toBe(once + 1999 * perElement);
  });

  it('stops at the element that spends the budget and skips the rest with its reason, unevaluated', () => {
    const source = { matches: { '$.wide[*]': -1 }, eventType: 'source.wide' };
    const spender = { wide: Array.from({ length: MATCH_STEP_BUDGET + 1 }, (_, i) => i) };
    // Each of these would match on a fresh budget.
    const matching = Array.from({ length: 1999 }, () => ({ wide: [-1] }));
    const alone = new StepBudget();
    matchItems(source, [spender], {}, alone);
    const budget = new StepBudget();
    const verdicts = matchItems(source, [spender, ...matching], {}, budget);
    expect(verdicts).toHaveLength(2000);
    expect(new Set(verdicts.map((v) => ('skipped' in v ? v.skipped : v.type)))).toEqual(
      new Set([`matches: more than ${MATCH_STEP_BUDGET} steps to evaluate; simplify the paths or send smaller bodies`]),
    );
    // Nothing was spent after the first element: the others were not evaluated.
    expect(budget.spent).toBe(alone.spent);
    expect(matchItems(source, matching.slice(0, 1), {})).toEqual([{ item: { wide: [-1] }, type: 'source.wide' }]);
  });

  it('still matches and types ordinary elements, in order, from the payload and the headers', () => {
    const events = [
      { email: 'ada@example.com', event: 'delivered' },
      { email: 'ada@example.com', event: 'open' },
      { email: 'bob@example.com', event: 'open' },
      { email: 'ada@example.com' },
    ];
    const verdicts = matchItems({ matches: { '$.email': 'ada@example.com' }, eventType: 'sendgrid.{$.event}' }, events, {});
    expect(verdicts).toEqual([
      { item: events[0], type: 'sendgrid.delivered' },
      { item: events[1], type: 'sendgrid.open' },
      { skipped: 'matches: $.email does not equal "ada@example.com"' },
      { skipped: 'eventType: no text or number at $.event' },
    ]);
    const headers = { 'x-github-event': 'pull_request' };
    expect(
      matchItems({ matches: {}, eventType: 'github.{header:X-GitHub-Event}.{$.action?}' }, [{ action: 'opened' }, {}], headers),
    ).toEqual([
      { item: { action: 'opened' }, type: 'github.pull_request.opened' },
      { item: {}, type: 'github.pull_request' },
    ]);
  });
});
