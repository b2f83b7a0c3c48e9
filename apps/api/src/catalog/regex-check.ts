import { check, type Diagnostics } from 'recheck';

/** Longest `pattern` (or `patternProperties` key) accepted, in characters. */
export const MAX_PATTERN_LENGTH = 1000;
/** Distinct patterns one schema may hold: each is checked when the schema is saved. */
export const MAX_PATTERNS_PER_SCHEMA = 100;
/** What checking one pattern may take before it counts as not proven safe. */
const CHECK_TIMEOUT_MS = 2000;
/** What checking every pattern of one schema may take together. */
const SCHEMA_BUDGET_MS = 5000;
const CACHED_VERDICTS = 1000;

/** Why a pattern is refused, in words for the API's 400; null when it is safe. */
export type PatternVerdict = string | null;

/** `\1`..`\9` or `\k<name>` outside a character class escape: a backreference. */
const BACKREFERENCE_RE = /(^|[^\\])(\\\\)*\\([1-9]|k<)/;

/**
 * Proves each pattern free of super-linear backtracking with recheck's automaton checker, before
 * any payload meets it. Ajv runs `pattern` and `patternProperties` on V8's backtracking engine
 * (fast, but exponential on a pattern like `^(a|a)*$`), so a pattern is accepted only when the
 * automaton analysis proves every match linear; lookarounds and backreferences, which it cannot
 * analyse, are refused rather than guessed about. recheck runs in its own process (the native
 * binary it ships, else a worker thread), so a hard pattern never blocks the event loop.
 */
export class RegexChecker {
  private readonly verdicts = new Map<string, PatternVerdict>();

  /** Each refused pattern with the reason; empty when all are safe. */
  async problems(patterns: readonly string[]): Promise<Array<{ pattern: string; reason: string }>> {
    const distinct = [...new Set(patterns)];
    if (distinct.length > MAX_PATTERNS_PER_SCHEMA) {
      return [
        {
          pattern: distinct[MAX_PATTERNS_PER_SCHEMA] as string,
          reason: `a schema may hold at most ${MAX_PATTERNS_PER_SCHEMA} distinct patterns`,
        },
      ];
    }
    const deadline = Date.now() + SCHEMA_BUDGET_MS;
    const out: Array<{ pattern: string; reason: string }> = [];
    for (const pattern of distinct) {
      const reason = await this.verdict(pattern, deadline);
      if (reason) out.push({ pattern, reason });
    }
    return out;
  }

  private async verdict(pattern: string, deadline: number): Promise<PatternVerdict> {
    const known = this.verdicts.get(pattern);
    if (known !== undefined) return known;
    const verdict = await this.analyse(pattern, deadline);
    if (this.verdicts.size >= CACHED_VERDICTS) this.verdicts.clear();
    this.verdicts.set(pattern, verdict);
    return verdict;
  }

  private async analyse(pattern: string, deadline: number): Promise<PatternVerdict> {
    if (pattern.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
    try {
      new RegExp(pattern, 'u');
    } catch (err) {
      return `not a valid regular expression: ${(err as Error).message}`;
    }
    if (BACKREFERENCE_RE.test(pattern)) return 'backreferences are not accepted: they cannot be proven to run in linear time';
    const timeout = Math.min(CHECK_TIMEOUT_MS, deadline - Date.now());
    if (timeout <= 0) return 'not checked: the schema has too many patterns to check in time';
    let result: Diagnostics;
    try {
      result = await check(pattern, 'u', { checker: 'automaton', timeout });
    } catch (err) {
      return `could not be checked (${(err as Error).message})`;
    }
    return describe(result);
  }
}

function describe(result: Diagnostics): PatternVerdict {
  if (result.status === 'safe') return null;
  if (result.status === 'vulnerable') {
    return `can take ${result.complexity.summary} time on a crafted string such as ${result.attack.pattern}; rewrite it so that no two ways of repeating can match the same text, and anchor it with ^`;
  }
  const error = result.error;
  if (error.kind === 'timeout' || error.kind === 'cancel') return 'could not be proven safe in time; simplify it';
  if (error.kind === 'unsupported')
    return `uses a feature that cannot be proven to run in linear time (${error.message}); lookarounds and backreferences are not accepted`;
  return `could not be checked: ${error.kind === 'invalid' ? error.message : error.kind}`;
}
