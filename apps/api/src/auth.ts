import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SubscriberStore } from '@hookrelay/store';
import { ForbiddenError, NotFoundError, UnauthorizedError } from './errors';

export type Principal = { role: 'admin' } | { role: 'publisher'; keyId: string } | { role: 'subscriber'; keyId: string; subscriberId: string };

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
export function authenticate(adminKey: string, subscribers: SubscriberStore): RequestHandler {
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
  if (principal.role === 'subscriber') {
    if (principal.subscriberId !== sid) throw new NotFoundError('subscriber');
    return;
  }
  if (access !== 'publish') throw new ForbiddenError('a publisher key may only publish events');
}
