import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { PortalSessionStore, SubscriberStore } from '@hookrelay/store';
import { AppError, ForbiddenError, NotFoundError, UnauthorizedError } from './errors';

/** A portal session's token starts with this, so one lookup finds it. */
export const PORTAL_SESSION_TOKEN_PREFIX = 'hr_ps_';

/**
 * Who is calling. A portal session acts for its subscriber like the subscriber's key does, except
 * that it ends at `expiresAt`, and a read-only one changes nothing.
 */
export type Principal =
  | { role: 'admin' }
  | { role: 'publisher'; keyId: string }
  | { role: 'subscriber'; keyId: string; subscriberId: string }
  | { role: 'session'; sessionId: string; subscriberId: string; subscriberName: string; readOnly: boolean; expiresAt: number };

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Resolves `Authorization: Bearer <key>` to a principal. The admin key is compared in constant time
 * (over fixed-length digests); other keys are looked up by their SHA-256, so the stored form never
 * reveals a key and the lookup does not depend on how much of a guess is right.
 */
export function authenticate(
  adminKey: string,
  stores: { subscribers: SubscriberStore; portalSessions: PortalSessionStore },
  now: () => number,
): RequestHandler {
  const { subscribers, portalSessions } = stores;
  const adminDigest = sha256(adminKey);
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) return next(new UnauthorizedError());
    // One digest serves both the admin comparison and the lookup (hashApiKey is this same SHA-256).
    const digest = sha256(match[1]);
    if (timingSafeEqual(digest, adminDigest)) {
      req.principal = { role: 'admin' };
      return next();
    }
    if (match[1].startsWith(PORTAL_SESSION_TOKEN_PREFIX)) {
      // Found by its hash like a key; an expired session, or one whose subscriber is gone, is unknown.
      const found = await portalSessions.find(digest.toString('hex'));
      if (!found || !found.subscriber || found.session.expiresAt <= now()) return next(new UnauthorizedError());
      const { session, subscriber } = found;
      req.principal = {
        role: 'session',
        sessionId: session.id,
        subscriberId: session.subscriberId,
        subscriberName: subscriber.name,
        readOnly: session.readOnly,
        expiresAt: session.expiresAt,
      };
      return next();
    }
    const record = await subscribers.findApiKey(digest.toString('hex'));
    if (!record || record.revokedAt) return next(new UnauthorizedError());
    req.principal =
      record.role === 'subscriber' && record.subscriberId
        ? { role: 'subscriber', keyId: record.id, subscriberId: record.subscriberId }
        : { role: 'publisher', keyId: record.id };
    next();
  };
}

export function principalOf(req: Request): Principal {
  if (!req.principal) throw new UnauthorizedError();
  return req.principal;
}

export function requireAdmin(req: Request): void {
  if (principalOf(req).role !== 'admin') throw new ForbiddenError('this route needs the admin key');
}

/**
 * May the caller read or change subscriber `sid`'s resources? Another subscriber's are answered
 * 404, as if they did not exist, so ids do not leak.
 */
export function assertSubscriberAccess(req: Request, sid: string, access: 'read' | 'publish'): void {
  const principal = principalOf(req);
  if (principal.role === 'admin') return;
  if (principal.role === 'subscriber' || principal.role === 'session') {
    if (principal.subscriberId !== sid) throw new NotFoundError('subscriber');
    return;
  }
  if (access !== 'publish') throw new ForbiddenError('a publisher key may only publish events');
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What a read-only portal session may not do: any write (403, whatever the route). Revoking itself
 * (signing out) is allowed: it changes nothing of the subscriber's. Reads it may not make either
 * (revealing a signing secret) are refused by their routes (`refuseReadOnlySession`): express
 * matches paths without regard to case or a trailing slash, so a path test here would miss
 * `/SECRET`.
 */
export function enforceReadOnlySessions(): RequestHandler {
  return (req, _res, next) => {
    const principal = req.principal;
    if (principal?.role !== 'session' || !principal.readOnly) return next();
    const signingOut =
      req.method === 'DELETE' && req.path === `/subscribers/${principal.subscriberId}/portal-sessions/${principal.sessionId}`;
    if (!READS.has(req.method) && !signingOut)
      return next(new AppError(403, 'read_only_session', 'this portal session is read-only: it cannot change anything'));
    next();
  };
}

/** Whether the caller is a read-only portal session. */
export function isReadOnlySession(req: Request): boolean {
  const principal = req.principal;
  return principal?.role === 'session' && principal.readOnly;
}

/** For a read a read-only portal session may not make (`what`: 'reveal signing secrets'): 403. */
export function refuseReadOnlySession(req: Request, what: string): void {
  if (isReadOnlySession(req)) throw new AppError(403, 'read_only_session', `this portal session is read-only: it cannot ${what}`);
}
