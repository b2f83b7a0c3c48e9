/**
 * A portal session link is `<api>/portal#session=<token>`: the token rides in the fragment, which
 * browsers never send to a server. The portal takes it out of the address bar at once (so it is not
 * left in history, bookmarks or a screenshot) and keeps it in the tab's session storage.
 */
const TOKEN = /^hr_ps_[A-Za-z0-9_-]{20,200}$/;

/** The token in a `#session=<token>` fragment; null for any other fragment (a route, or nothing). */
export function sessionTokenFromFragment(hash: string): string | null {
  const raw = hash.replace(/^#/, '');
  if (!raw.startsWith('session=')) return null;
  const token = new URLSearchParams(raw).get('session') ?? '';
  return TOKEN.test(token) ? token : null;
}

/** Whether a fragment is a session link at all (even one with a mangled token): it must not stay in the address bar either. */
export function isSessionFragment(hash: string): boolean {
  return hash.replace(/^#/, '').startsWith('session=');
}

/** "59 min", "2 h 5 min", "40 s": how long until `expiresAt`, for the header. */
export function timeLeft(expiresAt: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((expiresAt - nowMs) / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
}
