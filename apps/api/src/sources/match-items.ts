import type { IncomingHttpHeaders } from 'node:http';
import { compileEventType, resolveEventType } from './event-type-template';
import { compileMatches, evaluateMatches, StepBudget } from './match';
import type { Source } from './source-input';

/** One element of a request: the type it publishes as, or why it is skipped. */
export type ItemVerdict = { item: unknown; type: string } | { skipped: string };

/**
 * The source's `matches` and `eventType` applied to each element of one request (a split SendGrid
 * array, else the body alone), in order, on one step budget.
 *
 * The paths are parsed once for the request, not once per element: a source with 20 paths of ~490
 * characters and a signed 1 MB array of 2,000 elements cost ~550 ms of the API's event loop per
 * request when each element parsed them again, outside the budget, and a body that matched
 * nothing published nothing, so no publish rate was charged for it.
 *
 * Once the budget is spent, the elements left are skipped with the reason the element that spent
 * it got, without being evaluated: each would have been refused for the spent budget anyway, so the
 * answer (published elements before it, the count of skipped ones, the first reason) is what it
 * was before this stopped early.
 */
export function matchItems(
  source: Pick<Source, 'matches' | 'eventType'>,
  items: readonly unknown[],
  headers: IncomingHttpHeaders,
  budget: StepBudget = new StepBudget(),
): ItemVerdict[] {
  const matches = compileMatches(source.matches, budget);
  const eventType = compileEventType(source.eventType, budget);
  const verdicts: ItemVerdict[] = [];
  for (const item of items) {
    const verdict = verdictOf(item);
    verdicts.push(verdict);
    if (budget.exhausted && 'skipped' in verdict) {
      while (verdicts.length < items.length) verdicts.push(verdict);
      break;
    }
  }
  return verdicts;

  function verdictOf(item: unknown): ItemVerdict {
    const match = evaluateMatches(matches, item, budget);
    if (!match.matched) return { skipped: `matches: ${match.reason}` };
    const type = resolveEventType(eventType, item, budget, headers);
    return type.ok ? { item, type: type.type } : { skipped: type.reason };
  }
}
