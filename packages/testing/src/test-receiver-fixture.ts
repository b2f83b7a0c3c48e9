import { useFixture, type FixtureScope } from './fixture';
import { TestReceiver, type Reply } from './test-receiver';

/** A TestReceiver started before the suite (or each test, with scope 'each') and closed after it. */
export function useTestReceiver(fallback?: Reply, scope: FixtureScope = 'all'): TestReceiver {
  return useFixture(
    () => TestReceiver.start(fallback),
    (receiver) => receiver.close(),
    scope,
  );
}
