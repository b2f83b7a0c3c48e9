import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { newId } from '@hookrelay/contracts';
import { z } from 'zod';
import { PORTAL_SESSION_TOKEN_PREFIX, principalOf } from '../auth';
import type { ApiDeps } from '../deps';
import { AppError, ForbiddenError, fromZod, NotFoundError } from '../errors';
import { publicBaseUrl } from '../public-url';

export const PORTAL_SESSION_TTL = { defaultSeconds: 3600, minSeconds: 60, maxSeconds: 86_400 };

export const createPortalSessionSchema = z
  .object({
    ttlSeconds: z
      .number()
      .int()
      .min(PORTAL_SESSION_TTL.minSeconds)
      .max(PORTAL_SESSION_TTL.maxSeconds)
      .default(PORTAL_SESSION_TTL.defaultSeconds),
    readOnly: z.boolean().default(false),
  })
  .strict();

/** 32 random bytes, like an API key, with a prefix that says what it is. */
function newPortalSessionToken(): string {
  return `${PORTAL_SESSION_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * Portal sessions: a platform (admin or publisher key) hands one of its subscribers a link to the
 * portal that signs them in for a while, instead of a long-lived key to paste into a form.
 */
export function portalSessionRoutes(deps: ApiDeps): Router {
  const router = Router({ mergeParams: true });
  const { store } = deps;

  router.post('/', async (req, res) => {
    const principal = principalOf(req);
    if (principal.role !== 'admin' && principal.role !== 'publisher')
      throw new ForbiddenError('portal sessions are created with the admin key or a publisher key');
    const sid = String((req.params as { sid?: string }).sid);
    const parsed = createPortalSessionSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw fromZod(parsed.error);
    if (!(await store.subscribers.exists(sid))) throw new NotFoundError('subscriber');
    const now = deps.now();
    const token = newPortalSessionToken();
    const session = {
      id: newId('ps', now),
      subscriberId: sid,
      readOnly: parsed.data.readOnly,
      createdAt: now,
      expiresAt: now + parsed.data.ttlSeconds * 1000,
    };
    const saved = await store.portalSessions.create(token, session, now);
    if (!saved.created) {
      res.set('retry-after', String(Math.max(1, Math.ceil((saved.retryAt - now) / 1000))));
      throw new AppError(
        429,
        'too_many_portal_sessions',
        'this subscriber has 1000 live portal sessions: revoke some, or wait until one expires',
      );
    }
    // The token goes in the fragment: browsers never send it to a server, so no access log or Referer carries it.
    const url = `${publicBaseUrl(req, deps.publicUrl)}/portal#session=${token}`;
    res.status(201).json({ id: session.id, subscriberId: sid, url, token, readOnly: session.readOnly, expiresAt: session.expiresAt });
  });

  /** Ends a session at once: the platform's admin or publisher key, or the session itself (signing out). */
  router.delete('/:id', async (req, res) => {
    const principal = principalOf(req);
    const sid = String((req.params as { sid?: string }).sid);
    const id = String(req.params.id);
    const own = principal.role === 'session' && principal.sessionId === id && principal.subscriberId === sid;
    if (!own && principal.role !== 'admin' && principal.role !== 'publisher')
      throw new ForbiddenError('portal sessions are revoked with the admin key, a publisher key, or the session itself');
    if (!(await store.portalSessions.revoke(sid, id, deps.now()))) throw new NotFoundError('portal session');
    res.status(204).end();
  });

  return router;
}
