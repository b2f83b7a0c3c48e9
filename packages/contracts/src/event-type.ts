/**
 * Event-type patterns are dot-separated. `*` as a segment matches exactly one segment; a trailing `*`
 * also matches any deeper segments (`message.create.*` matches `message.create.contact.chat`, as in
 * Web1on1's filters); `*` alone matches everything.
 */
export function matchesEventType(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  const want = pattern.split('.');
  const have = type.split('.');
  for (let i = 0; i < want.length; i++) {
    const segment = want[i];
    const isLast = i === want.length - 1;
    if (segment === '*' && isLast) return have.length >= want.length;
    if (i >= have.length) return false;
    if (segment !== '*' && segment !== have[i]) return false;
  }
  return have.length === want.length;
}

export function matchesAny(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => matchesEventType(p, type));
}

/** Segments of letters, digits, `_` and `-`, or `*`, joined by dots. */
export const EVENT_TYPE_PATTERN_RE = /^(\*|[A-Za-z0-9_-]+)(\.(\*|[A-Za-z0-9_-]+))*$/;
export const EVENT_TYPE_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
