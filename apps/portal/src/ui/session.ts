/**
 * Who is signed in. Kept in sessionStorage: it lasts as long as the tab, is not shared with other
 * tabs, and is gone when the tab closes; the key is never put in a URL or a cookie.
 */
export interface Session {
  /** An API key, or a portal session's token. */
  key: string;
  subscriberId: string;
  subscriberName?: string;
  /** Signed in with the admin key (so they may switch subscriber). */
  admin: boolean;
  /** Signed in through a portal session link: it ends at `expiresAt`, and may be read-only. */
  link?: { sessionId: string; expiresAt: number; readOnly: boolean };
}

const STORAGE_KEY = 'hookrelay.portal.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.key !== 'string' || typeof s.subscriberId !== 'string') return null;
    const link =
      s.link && typeof s.link.sessionId === 'string' && typeof s.link.expiresAt === 'number'
        ? { sessionId: s.link.sessionId, expiresAt: s.link.expiresAt, readOnly: s.link.readOnly === true }
        : undefined;
    return {
      key: s.key,
      subscriberId: s.subscriberId,
      subscriberName: s.subscriberName,
      admin: s.admin === true,
      ...(link ? { link } : {}),
    };
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
