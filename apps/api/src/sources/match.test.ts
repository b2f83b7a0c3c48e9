import { evaluateMatches, MATCH_STEP_BUDGET, matchPathProblem, StepBudget, valuesAt } from './match';

/** `{"a":{"a":...}}` nested `depth` levels, built without recursion. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value, b: [value] };
  return value;
}

describe('the JSONPath subset of matches and eventType templates', () => {
  const doc = {
    event: { type: 'message', 'the.key': 'dotted', "it's": 'quoted', tags: ['a', 'b'] },
    items: [{ sku: 'x' }, { sku: 'y' }],
    'a-b': 1,
  };

  it.each<[string, unknown[]]>([
    ['$', [doc]],
    ['$.event.type', ['message']],
    ["$['event']['type']", ['message']],
    ['$["event"]["the.key"]', ['dotted']],
    ['$.event["it\'s"]', ['quoted']],
    ['$.items[1].sku', ['y']],
    ['$.items[*].sku', ['x', 'y']],
    ['$.event.tags.*', ['a', 'b']],
    ['$.a-b', [1]],
    ['$.items[5].sku', []],
    ['$.event.type.length', []],
    ['$.event.tags[0].x', []],
  ])('selects %s', (path, values) => {
    expect(matchPathProblem(path)).toBeNull();
    expect(valuesAt(path, doc)).toEqual(values);
  });

  it('never reads inherited or prototype properties', () => {
    expect(valuesAt('$.constructor', {})).toEqual([]);
    expect(valuesAt("$['__proto__']", JSON.parse('{"x":1}'))).toEqual([]);
    expect(valuesAt('$.tags.length', { tags: [1, 2] })).toEqual([]);
    expect(valuesAt('$.s[0]', { s: 'abc' })).toEqual([]);
  });

  it.each<[string, RegExp]>([
    ['event.type', /start with \$/],
    ['$..a', /recursive descent/],
    ['$..*..*..*..*', /recursive descent/],
    ['$.a[0,1]', /unions/],
    ["$['a','a','a']", /unions/],
    ['$.a[0:2]', /slices/],
    ['$.a[-1]', /index/],
    ['$.a^', /not supported/],
    ['$.a~', /not supported/],
    ['$..book[?(@.price<10)]', /not supported/],
    ['$.a[(@.length-1)]', /not supported/],
    ['$.a.@string()', /not supported/],
    ['$.a[', /not supported|unterminated/],
    ["$['a", /unterminated/],
    [`$${'.a'.repeat(65)}`, /at most 64 steps/],
    ['$.a[99999999999]', /index/],
  ])('refuses %s at creation', (path, problem) => {
    expect(matchPathProblem(path)).toMatch(problem);
  });

  it('refuses the path from the tenant-isolation report, which cost 1.5 s of CPU per request', () => {
    expect(matchPathProblem('$..*..*..*..*')).not.toBeNull();
  });

  it('ignores a stored path it no longer accepts, with the reason, without evaluating it', () => {
    const verdict = evaluateMatches({ '$..*..*..*..*': 1 }, nested(60));
    expect(verdict).toEqual({
      matched: false,
      reason: expect.stringMatching(/^\$\.\.\*\.\.\*\.\.\*\.\.\*: recursive descent \(\.\.\) is not supported/),
    });
  });

  describe('the step budget', () => {
    it(`stops after ${MATCH_STEP_BUDGET} steps across all paths of one request and says so`, () => {
      const wide = Array.from({ length: 20_000 }, (_, i) => ({ a: i, b: [i] }));
      // Each path alone takes about 100,000 steps, within the budget; four together do not.
      // Every path holds (at the last item), so each is walked to the end.
      const matches = { '$[*].b[*]': 19_999, "$[*]['b'][*]": 19_999, '$.*.b.*': 19_999, '$[*].b.*': 19_999 };
      expect(evaluateMatches({ '$[*].b[*]': 19_999 }, wide)).toEqual({ matched: true });
      const verdict = evaluateMatches(matches, wide);
      expect(verdict).toEqual({
        matched: false,
        reason: `more than ${MATCH_STEP_BUDGET} steps to evaluate; simplify the paths or send smaller bodies`,
      });
    });

    it('charges the comparison with the expected value, so a large expected value cannot be compared against many candidates', () => {
      const expected = Array.from({ length: 1000 }, (_, i) => i);
      const body = Array.from({ length: 2000 }, () => [...expected.slice(0, 999), -1]);
      expect(evaluateMatches({ '$[*]': expected }, body)).toMatchObject({
        matched: false,
        reason: expect.stringMatching(/more than \d+ steps/),
      });
    });

    it("charges a comparison with a candidate object's keys too, so `{}` against wide objects cannot be compared for free", () => {
      // Eight spellings of one path, each expecting `{}`, over 20 objects of 5,000 keys and a last
      // `{}` that makes every path hold: each comparison listed 5,000 keys for a step of 1.
      const wide = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i]));
      const body = { x: [...Array.from({ length: 20 }, () => wide), {}] };
      const spellings = ['$.x[*]', '$.x.*', "$['x'][*]", "$['x'].*", '$["x"][*]', '$["x"].*', '$.*[*]', '$.*.*'];
      const matches = Object.fromEntries(spellings.map((path) => [path, {}]));
      expect(evaluateMatches({ '$.x[*]': {} }, body)).toEqual({ matched: true });
      // A scalar expected is not charged the keys: deep equality refuses an object for its type.
      const scalars = { x: [...Array.from({ length: 20 }, () => wide), 'active'] };
      expect(evaluateMatches(Object.fromEntries(spellings.map((path) => [path, 'active'])), scalars)).toEqual({ matched: true });
      expect(evaluateMatches(matches, body)).toEqual({
        matched: false,
        reason: `more than ${MATCH_STEP_BUDGET} steps to evaluate; simplify the paths or send smaller bodies`,
      });
    });

    it('charges each path its length when it parses it, so long paths cannot be parsed for free', () => {
      const name = 'k'.repeat(480);
      const matches = Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`$.${name}[${'0'.repeat((i % 9) + 1)}]${i < 9 ? '' : `.x${i}`}`, 1]),
      );
      const characters = Object.keys(matches).reduce((n, path) => n + path.length, 0);
      const body = { [name]: [Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x${i}`, 1]))] };
      // Each path's evaluation is a few steps; its parse is its length, ~490.
      expect(evaluateMatches({ [`$.${name}[0].x9`]: 1 }, body, new StepBudget(500))).toEqual({ matched: true });
      expect(evaluateMatches(matches, body, new StepBudget(characters - 1))).toEqual({
        matched: false,
        reason: `more than ${MATCH_STEP_BUDGET} steps to evaluate; simplify the paths or send smaller bodies`,
      });
    });

    it('still matches a wildcard over a few hundred items', () => {
      const items = Array.from({ length: 500 }, (_, i) => ({ sku: `sku-${i}` }));
      expect(evaluateMatches({ '$.items[*].sku': 'sku-499' }, { items })).toEqual({ matched: true });
    });
  });
});
