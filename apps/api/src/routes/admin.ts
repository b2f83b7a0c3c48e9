import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { newId } from '@hookrelay/contracts';
import { z } from 'zod';
import { principalOf, requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import { fromZod, NotFoundError } from '../errors';
import { limitOverridesSchema } from '../subscriber-limits';
import { idParam, subscriberOf } from '../subscriber-access';

/** A new API key: shown once to its owner, stored only as a hash. */
export function newApiKey(role: 'sub' | 'pub'): string {
  return `hr_${role}_${randomBytes(32).toString('base64url')}`;
}

const createSubscriberSchema = z.object({ name: z.string().trim().min(1).max(200) }).strict();
const createApiKeySchema = z.object({ role: z.literal('publisher') }).strict();
export const updateSubscriberSchema = z
  .object({ name: createSubscriberSchema.shape.name.optional(), limits: limitOverridesSchema.optional() })
  .strict();

/** Admin-only routes: subscribers and publisher keys. */
export function adminRoutes(deps: ApiDeps): Router {
  const router = Router();

  /**
   * Who the presented key is: lets a subscriber's tools (the portal) find their subscriber, by id
   * and name, and a portal session when it ends.
   */
  router.get('/whoami', async (req, res) => {
    const principal = principalOf(req);
    const platform = deps.platformName ? { platformName: deps.platformName } : {};
    switch (principal.role) {
      case 'admin':
        return void res.json({ role: 'admin', ...platform });
      case 'publisher':
        return void res.json({ role: 'publisher', keyId: principal.keyId, ...platform });
      case 'subscriber': {
        const subscriber = await deps.store.subscribers.get(principal.subscriberId);
        return void res.json({
          role: 'subscriber',
          keyId: principal.keyId,
          subscriberId: principal.subscriberId,
          subscriberName: subscriber?.name ?? null,
          ...platform,
        });
      }
      case 'session':
        return void res.json({
          role: 'session',
          subscriberId: principal.subscriberId,
          subscriberName: principal.subscriberName,
          session: { id: principal.sessionId, readOnly: principal.readOnly, expiresAt: principal.expiresAt },
          ...platform,
        });
    }
  });

  router.post('/subscribers', async (req, res) => {
    requireAdmin(req);
    const parsed = createSubscriberSchema.safeParse(req.body);
    if (!parsed.success) throw fromZod(parsed.error);
    const now = deps.now();
    const subscriber = { id: newId('sub', now), name: parsed.data.name, createdAt: now };
    const apiKey = newApiKey('sub');
    await deps.store.subscribers.create(subscriber, {
      plain: apiKey,
      record: { id: newId('key', now), role: 'subscriber', subscriberId: subscriber.id, createdAt: now },
    });
    res.status(201).json({ ...subscriber, apiKey });
  });

  router.get('/subscribers', async (req, res) => {
    requireAdmin(req);
    res.json({ data: await deps.store.subscribers.list() });
  });

  /** A subscriber, its limits in force and what it uses of them (the admin, or the subscriber's own key). */
  async function subscriberView(sid: string) {
    // The stored bytes with the rest: the view shows what was written and whether admission holds
    // it (by the limit it recorded), not a wait against a limit, so none is passed.
    const [subscriber, limits, endpoints, sources, deletedEndpoints, stored] = await Promise.all([
      deps.store.subscribers.get(sid),
      deps.subscriberLimits.of(sid, { fresh: true }),
      deps.store.endpoints.count(sid),
      deps.store.sources.count(sid),
      deps.store.endpoints.deletedCount(sid),
      deps.store.storedBytes.usage(sid, deps.now(), 0),
    ]);
    if (!subscriber) throw new NotFoundError('subscriber');
    return {
      ...subscriber,
      limits,
      usage: { endpoints, sources, deletedEndpoints, storedBytes: stored.usedBytes, deliveriesHeld: stored.deliveriesHeld },
    };
  }

  router.get('/subscribers/:sid', async (req, res) => {
    res.json(await subscriberView(await subscriberOf(req, deps.store)));
  });

  /** The admin renames a subscriber or sets its limits; a limit set to null goes back to the server's default. */
  router.patch('/subscribers/:sid', async (req, res) => {
    requireAdmin(req);
    const sid = await subscriberOf(req, deps.store);
    const parsed = updateSubscriberSchema.safeParse(req.body);
    if (!parsed.success) throw fromZod(parsed.error);
    if (parsed.data.name !== undefined) await deps.store.subscribers.rename(sid, parsed.data.name);
    if (parsed.data.limits) {
      await deps.store.subscribers.setLimitOverrides(sid, parsed.data.limits);
      deps.subscriberLimits.forget(sid);
      // Recorded where admission reads it (the workers hold no limits), and a subscriber held for
      // its stored bytes goes again at once when the new limit lets it.
      if (parsed.data.limits.maxStoredBytes !== undefined)
        await deps.store.storedBytes.setLimit(sid, deps.subscriberLimits.defaults.maxStoredBytes, deps.now());
    }
    res.json(await subscriberView(sid));
  });

  router.get('/api-keys', async (req, res) => {
    requireAdmin(req);
    res.json({ data: await deps.store.subscribers.listApiKeys() });
  });

  router.delete('/api-keys/:kid', async (req, res) => {
    requireAdmin(req);
    const revoked = await deps.store.subscribers.revokeApiKey(String(req.params.kid), deps.now());
    if (!revoked) throw new NotFoundError('api key');
    res.status(204).end();
  });

  /** Another key for a subscriber, e.g. to replace one that was revoked or leaked. */
  router.post('/subscribers/:sid/api-keys', async (req, res) => {
    requireAdmin(req);
    const sid = idParam(req, 'sid', 'sub', 'subscriber');
    if (!(await deps.store.subscribers.exists(sid))) throw new NotFoundError('subscriber');
    const now = deps.now();
    const apiKey = newApiKey('sub');
    const record = { id: newId('key', now), role: 'subscriber' as const, subscriberId: sid, createdAt: now };
    await deps.store.subscribers.saveApiKey(apiKey, record);
    res.status(201).json({ id: record.id, role: record.role, subscriberId: sid, apiKey });
  });

  router.post('/api-keys', async (req, res) => {
    requireAdmin(req);
    const parsed = createApiKeySchema.safeParse(req.body);
    if (!parsed.success) throw fromZod(parsed.error);
    const now = deps.now();
    const apiKey = newApiKey('pub');
    const record = { id: newId('key', now), role: 'publisher' as const, createdAt: now };
    await deps.store.subscribers.saveApiKey(apiKey, record);
    res.status(201).json({ id: record.id, role: record.role, apiKey });
  });

  return router;
}
