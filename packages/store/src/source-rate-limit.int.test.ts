import { newId } from '@hookrelay/contracts';
import { createStore } from './index';
import { useTestStore } from './test-store';

describe("a source's rate limit", () => {
  const db = useTestStore('source-rate');

  it("marks each window's first refusal once, whichever window refused the requests before it", async () => {
    let clock = 1_900_000_000_000 - (1_900_000_000_000 % 60_000);
    const store = createStore({ redis: db.redis, prefix: db.prefix, now: () => clock });
    const id = newId('src');
    const limits = { perSecond: 2, perMinute: 3 };
    const hit = async () => {
      const verdict = await store.sources.hitRateLimit(id, limits);
      return verdict ? `${verdict.window}${verdict.first ? ' first' : ''}` : 'ok';
    };
    // Second 0: the fourth request passes the minute's count too, but the second's limit refused it.
    const second0 = [await hit(), await hit(), await hit(), await hit()];
    clock += 1000;
    // Second 1: the minute's own refusals start, and its first is marked; then the second's.
    const second1 = [await hit(), await hit(), await hit()];
    expect(second0).toEqual(['ok', 'ok', 'second first', 'second']);
    expect(second1).toEqual(['minute first', 'minute', 'second first']);
  });
});
