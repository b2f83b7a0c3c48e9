/**
 * Whether the portal asks again, and after how long, when the API answers that the subscriber's
 * heavy listings are all running (`429 listings_in_flight`: two per subscriber and API process,
 * shared by endpoint listings, event listings with outcomes, filtered delivery listings and source
 * listings). A page that loads two of them while an earlier one still runs (a filter changed
 * quickly, a second tab) would otherwise show an error for a wait of about a second. Only reads are
 * asked again, and only a few times, each after the `Retry-After` the API gave (at most 2 s).
 */
export function busyRetryDelayMs(
  answer: { method: string; status: number; code: string | undefined; retryAfter: string | null },
  tries: number,
): number | null {
  if (answer.method !== 'GET' || answer.status !== 429 || answer.code !== 'listings_in_flight') return null;
  if (tries >= MAX_BUSY_TRIES) return null;
  const seconds = Number(answer.retryAfter);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 2) * 1000 : 1000;
}

/** Tries of one read at most, the first included. */
export const MAX_BUSY_TRIES = 3;
