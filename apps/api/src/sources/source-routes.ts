import { randomBytes } from 'node:crypto';
import { Router, type Request } from 'express';
import { newId } from '@hookrelay/contracts';
import type { z } from 'zod';
import { idParam, subscriberOf as subscriberOfRequest } from '../subscriber-access';
import type { ApiDeps } from '../deps';
import { creationOrderQuery } from '../creation-order-query';
import { fromZod, NotFoundError, ValidationError } from '../errors';
import { providerDefaults, needsPublicUrl } from './providers';
import {
  createSourceSchema,
  listRequestsQuery,
  patchSourceSchema,
  type Source,
  type SourceDedupe,
  type SourceVerification,
} from './source-input';
import { sourceView } from './source-view';
import { isReadOnlySession } from '../auth';
import type { RecordListingBudget } from '../record-listing-budget';
import { readListingPage } from '../filtered-listing';
import { QuotaExceededError, type InFlightPerSubscriber } from '../subscriber-limits';

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZod(result.error);
  return result.data;
}

/** 256 bits, base64url: the ingest URL is the only thing a sender needs, so it must not be guessable. */
function newIngestToken(): string {
  return randomBytes(32).toString('base64url');
}

function sameDedupe(a: SourceDedupe | undefined, b: SourceDedupe | undefined): boolean {
  return a?.header === b?.header && a?.windowSeconds === b?.windowSeconds;
}

/**
 * A PATCH of `verification` to another provider (or SendGrid's other split) moves each of
 * `eventType`, `format` and `dedupe` that still holds the old type's default, and that the PATCH does
 * not set, to the new type's default; a value the user chose stays.
 */
function followDefaults(
  current: Source,
  next: Source,
  patch: { eventType?: unknown; format?: unknown; dedupe?: unknown; verification?: SourceVerification },
): void {
  if (!patch.verification) return;
  const before = providerDefaults(current.verification);
  const after = providerDefaults(patch.verification);
  if (patch.eventType === undefined && after.eventType && current.eventType === before.eventType) next.eventType = after.eventType;
  if (patch.format === undefined && current.format === before.format) next.format = after.format;
  if (patch.dedupe === undefined && before.dedupe && sameDedupe(current.dedupe, before.dedupe)) {
    if (after.dedupe) next.dedupe = after.dedupe;
    else delete next.dedupe;
  } else if (patch.dedupe === undefined && !current.dedupe && !before.dedupe && after.dedupe) {
    next.dedupe = after.dedupe;
  }
}

/**
 * CRUD for inbound sources under /v1/subscribers/:sid/sources, with the same tenancy as endpoints.
 * `heavyListings`: the places listings that read many records share (heavyListingsPerSubscriber);
 * `recordListings`, the pages of whole sources (their places among those, and their work budget).
 */
export function sourceRoutes(
  deps: ApiDeps,
  { heavyListings, recordListings }: { heavyListings: InFlightPerSubscriber; recordListings: RecordListingBudget },
): Router {
  const router = Router({ mergeParams: true });
  const { store } = deps;

  const subscriberOf = (req: Request) => subscriberOfRequest(req, store);

  /**
   * Another subscriber's source is answered 404, as if it did not exist. Ownership is checked
   * without opening a secret, so only the owner can learn that one cannot be decrypted.
   */
  async function ownedSource(req: Request): Promise<{ id: string; subscriberId: string }> {
    const sid = await subscriberOf(req);
    const owner = await store.sources.getOwner(idParam(req, 'id', 'src', 'source'));
    if (!owner || owner.subscriberId !== sid) throw new NotFoundError('source');
    return owner;
  }

  /** The source with its secrets: the views show the ingest URL, whose token is one. */
  async function sourceOf(req: Request): Promise<Source> {
    const source = await store.sources.get<Source>((await ownedSource(req)).id);
    if (!source) throw new NotFoundError('source');
    return source;
  }

  /** What the server's settings rule out: `none` without the operator's switch, Twilio without a public URL. */
  function checkVerification(verification: SourceVerification): void {
    if (verification.type === 'none' && !deps.policy.allowUnauthenticatedSources) {
      const message =
        'unauthenticated sources are disabled on this server (the operator sets HOOKRELAY_ALLOW_UNAUTHENTICATED_SOURCES=true to allow them); use a provider type, header, hmac, standard-webhooks or basic';
      throw ValidationError.at('verification.type', message);
    }
    if (needsPublicUrl(verification) && !deps.publicUrl) {
      const message = `${verification.type} signs the full URL it calls, so this server needs HOOKRELAY_PUBLIC_URL (its external base URL, e.g. https://hooks.example.com); ask the operator to set it`;
      throw ValidationError.at('verification.type', message);
    }
  }

  async function view(req: Request, source: Source) {
    return sourceView(source, await store.sources.verifiedAt(source.id), { hideIngestUrl: isReadOnlySession(req) });
  }

  router.post('/', async (req, res) => {
    const sid = await subscriberOf(req);
    const { eventType, format, dedupe, ...input } = parse(createSourceSchema, req.body);
    checkVerification(input.verification);
    const defaults = providerDefaults(input.verification);
    const type = eventType ?? defaults.eventType;
    if (!type) {
      const message = `required: verification type ${input.verification.type} has no default event type (e.g. source.jira.issue, or a template such as jira.{$.webhookEvent})`;
      throw ValidationError.at('eventType', message);
    }
    const now = deps.now();
    const source: Source = {
      id: newId('src', now),
      subscriberId: sid,
      token: newIngestToken(),
      ...input,
      eventType: type,
      format: format ?? defaults.format,
      createdAt: now,
      updatedAt: now,
    };
    const chosenDedupe = dedupe === null ? undefined : (dedupe ?? defaults.dedupe);
    if (chosenDedupe) source.dedupe = chosenDedupe;
    const { maxSources } = await deps.subscriberLimits.of(sid, { fresh: true });
    if (!(await store.sources.create(source, maxSources))) throw new QuotaExceededError('maxSources', maxSources);
    res.status(201).json(sourceView(source, null));
  });

  router.get('/', async (req, res) => {
    const sid = await subscriberOf(req);
    const q = parse(creationOrderQuery, req.query);
    // A source whose secrets cannot be decrypted is listed, marked, and without what it cannot show;
    // its own routes answer 500 secret_unreadable where they need them.
    // A page of 100 sources with the largest `matches` is 2.6 MB to read, open and write; every
    // source at once, before pages, was 1.3 MB for the quota's 50 and grew with a raised quota.
    await recordListings.answerPage(
      req,
      sid,
      () => store.sources.list<Source>(sid, { limit: q.limit, cursor: q.cursor }),
      (page) => {
        const hideIngestUrl = isReadOnlySession(req);
        const data = page.items.map(({ source, unreadable, verifiedAt }) =>
          sourceView(source, verifiedAt, { secretUnreadable: unreadable !== null, hideIngestUrl }),
        );
        res.json({ data, nextCursor: page.nextCursor ?? null });
      },
    );
  });

  router.get('/:id', async (req, res) => {
    res.json(await view(req, await sourceOf(req)));
  });

  router.patch('/:id', async (req, res) => {
    const current = await sourceOf(req);
    const input = parse(patchSourceSchema, req.body);
    if (input.verification) checkVerification(input.verification);
    const { rateLimit, dedupe, ...changes } = input;
    const next: Source = { ...current, ...changes, rateLimit: { ...current.rateLimit, ...rateLimit }, updatedAt: deps.now() };
    if (dedupe === null) delete next.dedupe;
    else if (dedupe) next.dedupe = dedupe;
    if (input.verification) followDefaults(current, next, input);
    // Deleted since it was read (a DELETE racing this PATCH): as if it had been gone already.
    if (!(await store.sources.save(next))) throw new NotFoundError('source');
    // New credentials have not been seen working yet: back to unverified until a request passes.
    if (input.verification) await store.sources.clearVerified(current.id);
    res.json(await view(req, next));
  });

  router.delete('/:id', async (req, res) => {
    await store.sources.delete(await ownedSource(req));
    res.status(204).end();
  });

  router.get('/:id/requests', async (req, res) => {
    const source = await ownedSource(req);
    const q = parse(listRequestsQuery, req.query);
    // An outcome filter reads requests it may not keep, up to the source's whole history (1,000 of
    // ~1 KB) for one page: placed and charged as the deliveries' filtered listings are.
    const page = await readListingPage(
      deps,
      req,
      source.subscriberId,
      heavyListings,
      q.outcome ? 'outcome' : undefined,
      () => store.sources.listRequests(source.id, q),
      (p) => p.scanned,
    );
    res.json({ data: page.items, nextCursor: page.nextCursor ?? null });
  });

  return router;
}
