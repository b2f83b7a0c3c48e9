/**
 * When a fixture starts and stops: once around the suite (beforeAll/afterAll), or around each test
 * (beforeEach/afterEach).
 */
export type FixtureScope = 'all' | 'each';

/**
 * Registers the jest hooks that start a fixture and stop it, paired in one place, and returns a
 * handle that stands for the started value: reading a property of the handle reads it from the
 * value the last hook started. So a suite declares `const h = useApiHarness()` and reads as its
 * assertions, not its scaffolding (STYLE.md: fixtures pair set-up with clean-up).
 *
 * Hand the real objects to production code (`h.redis`, not `h`): the handle is a Proxy, so
 * `instanceof` does not see through it.
 */
export function useFixture<T extends object>(
  start: () => T | Promise<T>,
  stop: (value: T) => void | Promise<void>,
  scope: FixtureScope = 'all',
): T {
  let current: T | undefined;
  const [before, after] = scope === 'all' ? [beforeAll, afterAll] : [beforeEach, afterEach];
  before(async () => {
    current = await start();
  });
  after(async () => {
    const value = current;
    current = undefined;
    if (value) await stop(value);
  });
  const started = (prop: PropertyKey): T => {
    if (!current) throw new Error(`fixture read (${String(prop)}) outside a test: it starts in before${scope === 'all' ? 'All' : 'Each'}`);
    return current;
  };
  return new Proxy({} as T, {
    get(_, prop) {
      // Inspection (util.inspect, jest's printer) may look at symbols before the fixture started.
      if (typeof prop === 'symbol' && !current) return undefined;
      const value = started(prop);
      const field: unknown = Reflect.get(value, prop, value);
      return typeof field === 'function' ? (field as (...args: unknown[]) => unknown).bind(value) : field;
    },
    set(_, prop, field) {
      return Reflect.set(started(prop), prop, field);
    },
    has(_, prop) {
      return current ? Reflect.has(current, prop) : false;
    },
  });
}
