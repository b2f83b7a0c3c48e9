import { Router, type Request } from 'express';
import {
  DEFAULT_MIN_RETRY_INTERVAL_MS,
  liveRetiringSecrets,
  newId,
  summarizeEndpoint,
  type Endpoint,
  type EndpointAuth,
} from '@hookrelay/contracts';
import type { EndpointChanges } from '@hookrelay/store';
import { signAwsSigV4 } from '@hookrelay/delivery';
import { checkSecretForScheme, newSigningSecret } from '@hookrelay/signing';
import type { z } from 'zod';
import { endpointOf as endpointOfRequest, endpointWithSecretsOf, subscriberOf as subscriberOfRequest } from '../subscriber-access';
import type { ApiDeps } from '../deps';
import { creationOrderQuery } from '../creation-order-query';
import { refuseReadOnlySession } from '../auth';
import { endpointView } from '../endpoint-view';
import { AppError, fromZod, NotFoundError, ValidationError } from '../errors';
import { createEndpointSchema, patchEndpointSchema, rotateSecretSchema } from '../endpoint-input';
import { assertTargetUrl, type UrlCredentials } from '../target-url';
import { verifyEndpoint, type VerifyMode } from '../verification';
import { admitEvents, QuotaExceededError, type InFlightPerSubscriber } from '../subscriber-limits';
import { admitWork, WORK_COSTS } from '../work-budget';
import type { RecordListingBudget } from '../record-listing-budget';

function parse<T>(schema: z.ZodType<T>, value: unknown, root: string[] = []): T {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZod(result.error, root);
  return result.data;
}

/**
 * An endpoint's routes. `verifications`: the places endpoint verifications share with test sends
 * (receiverWaitsPerSubscriber); `disables`, those disables share with recovers
 * (endpointBulkWorkPerSubscriber); `recordListings`, the pages of whole endpoints (their places
 * among the listings that read many records, and their work budget).
 */
export function endpointRoutes(
  deps: ApiDeps,
  places: {
    verifications: InFlightPerSubscriber;
    disables: InFlightPerSubscriber;
    recordListings: RecordListingBudget;
  },
): Router {
  const router = Router({ mergeParams: true });
  const { store } = deps;
  const { verifications, disables, recordListings } = places;

  const subscriberOf = (req: Request) => subscriberOfRequest(req, store);
  const endpointOf = (req: Request) => endpointOfRequest(req, store);
  const withSecretsOf = (req: Request) => endpointWithSecretsOf(req, store);

  /**
   * A retry policy's interval against the operator's floor (HOOKRELAY_MIN_RETRY_INTERVAL_MS), which
   * the worker holds every retry to anyway: refused here, so what an endpoint shows is what it gets.
   */
  function checkRetryInterval(intervalMs: number | undefined): void {
    const min = deps.policy.minRetryIntervalMs ?? DEFAULT_MIN_RETRY_INTERVAL_MS;
    if (intervalMs !== undefined && intervalMs < min) {
      throw ValidationError.at('retry.intervalMs', `must be at least ${min} ms on this server (HOOKRELAY_MIN_RETRY_INTERVAL_MS)`);
    }
  }

  function checkSignature(signature: Endpoint['signature'], secret: string | undefined): void {
    if (signature.scheme === 'x-hub-signature' && signature.algorithm === 'sha1' && !deps.policy.allowSha1) {
      throw ValidationError.at('signature.algorithm', 'sha1 is not allowed on this server; use sha256 or sha512');
    }
    if (secret !== undefined) {
      const problem = checkSecretForScheme(signature.scheme, secret);
      if (problem) throw ValidationError.at('secret', problem);
    }
  }

  /**
   * aws4 percent-decodes what it signs (an S3 path always, any path or query with characters it
   * would escape), and a malformed escape (`%zz`) throws: every attempt of such an endpoint failed
   * as `internal`. Refused here instead, by signing the URL as the worker would (with placeholder
   * credentials: only the URL can make it throw), with the URL and the auth as they will be stored.
   */
  function checkSignableUrl(url: string, auth: { type: string; region?: string; service?: string } | undefined): void {
    if (auth?.type !== 'aws-sigv4' || !auth.region || !auth.service) return;
    try {
      const placeholder = {
        type: 'aws-sigv4' as const,
        accessKeyId: 'AKID',
        secretAccessKey: 'secret',
        region: auth.region,
        service: auth.service,
      };
      signAwsSigV4({ url, headers: {}, body: '', timeoutMs: 1 }, placeholder, deps.now());
    } catch {
      throw ValidationError.at('url', 'has a malformed percent-escape in its path or query, which an AWS SigV4 signature cannot cover');
    }
  }

  /**
   * The auth to store, from the `auth` field or from credentials found in the URL (Web1on1's
   * `https://user:pass@host/`, which becomes basic auth), never both. An OAuth token URL is vetted
   * like an endpoint URL: it is a target the worker will call.
   */
  async function resolveAuth(
    sid: string,
    auth: EndpointAuth | undefined,
    fromUrl: UrlCredentials | undefined,
  ): Promise<EndpointAuth | undefined> {
    if (fromUrl) {
      if (auth && auth.type !== 'none') {
        const message = 'credentials in the URL and an auth field were both given; use one of them';
        throw ValidationError.at('url', message);
      }
      return { type: 'basic', username: fromUrl.username, password: fromUrl.password };
    }
    if (auth?.type === 'oauth2-client-credentials') {
      const vetted = await assertTargetUrl(auth.tokenUrl, deps, { field: 'auth.tokenUrl', acceptCredentials: false, caller: sid });
      return { ...auth, tokenUrl: vetted.url };
    }
    return auth;
  }

  /**
   * Verifying holds this request, a socket and memory until the receiver answers: a place is taken
   * before the endpoint is called, and so before anything is stored, and a subscriber with all its
   * places taken gets 429 `verifications_in_flight`. The place is given back when the verification's
   * work has let go, which may be after its answer (verifyEndpoint's deadline).
   */
  async function verifyOrRefuse(mode: VerifyMode, endpoint: Endpoint, onLetGo: () => void): Promise<void> {
    if (mode === 'none') return;
    const release = verifications.take(endpoint.subscriberId, 'verify');
    // onLetGo once everything the verification started has let go, which may be after its answer:
    // a Digest challenge or a token arriving late is kept by then.
    const letGo = () => {
      release();
      onLetGo();
    };
    const result = await verifyEndpoint(mode, endpoint, deps, deps.now(), deps.verificationTimeoutMs, letGo);
    if (!result.ok) throw new AppError(422, 'verification_failed', `endpoint verification (${mode}) failed: ${result.answered}`);
  }

  router.post('/', async (req, res) => {
    const sid = await subscriberOf(req);
    const input = parse(createEndpointSchema, req.body);
    checkRetryInterval(input.retry.intervalMs);
    const { maxEndpoints, maxDeletedEndpoints } = await deps.subscriberLimits.of(sid, { fresh: true });
    // Before verification calls the URL; store.endpoints.create checks again, atomically, at the write.
    if ((await store.endpoints.count(sid)) >= maxEndpoints) throw new QuotaExceededError('maxEndpoints', maxEndpoints);
    // Deleted endpoints do not count above, but each stays in the history (its index entry, version
    // and scheduler settings, ~300 B) for the retention period, and an event's deliveries are looked
    // up among those alive around it: creating and deleting in a loop (~500 a second) grew Redis by
    // hundreds of MB an hour. Checked here, not at the write: concurrent creates may pass it by a few.
    if ((await store.endpoints.deletedCount(sid)) >= maxDeletedEndpoints)
      throw new QuotaExceededError('maxDeletedEndpoints', maxDeletedEndpoints);
    checkSignature(input.signature, input.secret);
    const target = await assertTargetUrl(input.url, deps, { caller: sid });
    const auth = (await resolveAuth(sid, input.auth, target.credentials)) ?? input.auth;
    checkSignableUrl(target.url, auth);
    const now = deps.now();
    const endpoint: Endpoint = {
      id: newId('ep', now),
      subscriberId: sid,
      url: target.url,
      description: input.description,
      eventTypes: input.eventTypes,
      signature: input.signature,
      secret: input.secret ?? newSigningSecret(input.signature.scheme),
      previousSecrets: [],
      headers: input.headers,
      auth,
      retry: input.retry,
      timeoutMs: input.timeoutMs,
      ...(input.rateLimit ? { rateLimit: input.rateLimit } : {}),
      status: 'active',
      verify: input.verify,
      createdAt: now,
      updatedAt: now,
    };
    // Its verification may leave a token or a Digest session under an id that will never be stored
    // when the create is refused: kept, each refused create took one of the 10,000 places every
    // subscriber's test sends and verifications share in this process (an 8 KB token a time: ~80 MB,
    // and everyone else's tokens fetched again). Dropped on the refusal, and again once the
    // verification's work has let go.
    let refused = false;
    const forgetIfRefused = () => {
      if (refused) deps.auth.forget(endpoint.id);
    };
    try {
      await verifyOrRefuse(input.verify, endpoint, forgetIfRefused);
      if (!(await store.endpoints.create(endpoint, maxEndpoints))) throw new QuotaExceededError('maxEndpoints', maxEndpoints);
    } catch (err) {
      refused = true;
      forgetIfRefused();
      throw err;
    }
    res.status(201).json({ ...endpointView(summarizeEndpoint(endpoint)), secret: endpoint.secret });
  });

  router.get('/', async (req, res) => {
    const sid = await subscriberOf(req);
    const q = parse(creationOrderQuery, req.query);
    // A page of 100 endpoints of ~35 KB each is 3 MB to read, parse and write.
    await recordListings.answerPage(
      req,
      sid,
      () => store.endpoints.list(sid, { limit: q.limit, cursor: q.cursor }),
      async (page) => {
        const health = await Promise.all(page.items.map((e) => store.health.get(e.id)));
        res.json({ data: page.items.map((e, i) => endpointView(e, health[i])), nextCursor: page.nextCursor ?? null });
      },
    );
  });

  router.get('/:eid', async (req, res) => {
    const endpoint = await endpointOf(req);
    res.json(endpointView(endpoint, await store.health.get(endpoint.id)));
  });

  /**
   * A PATCH writes only the fields it changes (EndpointStore.update), so it reads a secret only when
   * it needs one: to check the current secret against a new scheme, or to sign and authenticate
   * the verification of a new URL. Anything else works even when a secret cannot be decrypted.
   */
  router.patch('/:eid', async (req, res) => {
    const current = await endpointOf(req);
    const input = parse(patchEndpointSchema, req.body);
    checkRetryInterval(input.retry?.intervalMs);
    if (input.signature) checkSignature(input.signature, undefined);
    const { verify, url: rawUrl, auth: rawAuth, status, retry, rateLimit, ...fields } = input;
    const target = rawUrl !== undefined ? await assertTargetUrl(rawUrl, deps, { caller: current.subscriberId }) : { url: current.url };
    const auth = await resolveAuth(current.subscriberId, rawAuth, target.credentials);
    // Only what the PATCH changes: an endpoint stored before this check must still be disabled.
    if (rawUrl !== undefined || rawAuth !== undefined) checkSignableUrl(target.url, auth ?? current.auth);
    // A partial retry policy changes only the fields it names.
    const changes: EndpointChanges = {
      ...fields,
      ...(retry ? { retry: { ...current.retry, ...retry } } : {}),
      ...(auth ? { auth } : {}),
      updatedAt: deps.now(),
    };
    if (input.signature && input.signature.scheme !== current.signature.scheme) {
      const { secret } = await withSecretsOf(req);
      if (checkSecretForScheme(input.signature.scheme, secret)) {
        // The old secret does not suit the new scheme (say whsec_ for Standard Webhooks): issue a new one.
        changes.secret = newSigningSecret(input.signature.scheme);
        changes.previousSecrets = [];
      }
    }
    const reEnabled = status === 'active' && current.status === 'disabled';
    // Disabling is done by the guard below, so a manual disable is recorded and announced like any other.
    const disabling = status === 'disabled' && current.status === 'active';
    if (reEnabled) Object.assign(changes, { status: 'active', disabledReason: undefined, disabledAt: undefined });
    if (verify !== undefined) changes.verify = verify;
    // null removes the limit (an undefined field is removed from the stored record).
    if (rateLimit !== undefined) changes.rateLimit = rateLimit ?? undefined;
    // A disable ends up to 10,000 open deliveries here and announces `endpoint.disabled` to the
    // subscriber's endpoints: one at a time per subscriber (beside its recovers), and one event of
    // its publish rate, taken before anything is written or sent (a new URL's verification) so a
    // refused PATCH changes nothing. A disable/enable loop made ~46 announcements a second at
    // `eventsPerSecond: 1`. A re-enable counts one too: the worker's own disable (a receiver that
    // answers 410) announces without a request to charge, so a re-enable/410 loop is charged here.
    // And against the work budget by the deliveries it ended, as a recover by those it reopens.
    const release = disabling ? disables.take(current.subscriberId, 'status') : undefined;
    try {
      const charge = disabling ? await admitWork(deps, req, current.subscriberId) : undefined;
      if (disabling || reEnabled) await admitEvents(deps, current.subscriberId, 1);
      if (target.url !== current.url) {
        changes.url = target.url;
        const mode = verify ?? current.verify ?? 'none';
        // What it fetched for the new settings goes with them, kept or refused (the API hears no
        // endpoint changes): the next test send starts from the endpoint as stored.
        if (mode !== 'none') await verifyOrRefuse(mode, { ...(await withSecretsOf(req)), ...changes }, () => deps.auth.forget(current.id));
      }
      if (!(await store.endpoints.update(current.id, changes))) throw new NotFoundError('endpoint');
      if (reEnabled) {
        // A fresh start: the circuit breaker counts from zero, and the endpoint may be disabled again at once.
        await store.health.resetStreak(current.id);
        await store.endpoints.releaseDisable(current.id);
      }
      if (charge) {
        const { read, ended } = await deps.guard.disable(current, 'manual', 'disabled through the API');
        await charge(read * WORK_COSTS.recordRead + ended * WORK_COSTS.deliveryWritten);
      }
    } finally {
      release?.();
      // A token or Digest session of its old URL or credentials must not answer for the new ones.
      if (target.url !== current.url || auth) deps.auth.forget(current.id);
    }
    const saved = await store.endpoints.getSummary(current.id);
    if (!saved) throw new NotFoundError('endpoint');
    res.json({
      ...endpointView(saved, await store.health.get(saved.id)),
      ...(changes.secret !== undefined ? { secret: changes.secret } : {}),
    });
  });

  router.delete('/:eid', async (req, res) => {
    const endpoint = await endpointOf(req);
    await store.endpoints.delete(endpoint);
    deps.auth.forget(endpoint.id);
    res.status(204).end();
  });

  router.get('/:eid/secret', async (req, res) => {
    // A signing secret is a credential rather than something to look at.
    refuseReadOnlySession(req, 'reveal signing secrets');
    const endpoint = await withSecretsOf(req);
    res.json({ secret: endpoint.secret, previousSecrets: liveRetiringSecrets(endpoint.previousSecrets, deps.now()) });
  });

  router.post('/:eid/secret/rotate', async (req, res) => {
    const endpoint = await withSecretsOf(req);
    const input = parse(rotateSecretSchema, req.body ?? {});
    if (input.secret !== undefined) checkSignature(endpoint.signature, input.secret);
    const now = deps.now();
    const next = {
      secret: input.secret ?? newSigningSecret(endpoint.signature.scheme),
      // Past MAX_RETIRING_SECRETS the oldest stops signing at once.
      previousSecrets: liveRetiringSecrets(
        [...endpoint.previousSecrets, ...(input.graceMs > 0 ? [{ secret: endpoint.secret, expiresAt: now + input.graceMs }] : [])],
        now,
      ),
    };
    if (!(await store.endpoints.update(endpoint.id, { ...next, updatedAt: now }))) throw new NotFoundError('endpoint');
    res.json(next);
  });

  return router;
}
