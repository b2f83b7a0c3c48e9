import express, { type Express, type RequestHandler } from 'express';
import { authenticate, enforceReadOnlySessions } from './auth';
import { eventTypeRoutes } from './catalog/event-type-routes';
import type { ApiDeps } from './deps';
import { INFLATE_BODIES } from './compressed-bodies';
import { errorHandler } from './errors';
import { JSON_MEDIA_TYPES, noSuchRoute, requireJsonBodies } from './http-semantics';
import { checkBodyShape } from './json-depth';
import { inSeries } from './in-series';
import { openApiAnswer } from './openapi';
import { portalStatic } from './portal-static';
import { adminRoutes } from './routes/admin';
import { endpointRoutes } from './routes/endpoints';
import { eventRoutes } from './routes/events';
import { deliveryRoutes } from './routes/deliveries';
import { endpointActionRoutes } from './routes/endpoint-actions';
import { endpointStatsRoutes } from './routes/endpoint-stats';
import { eventHistoryRoutes } from './routes/event-history';
import { healthRoutes } from './routes/health';
import { portalSessionRoutes } from './routes/portal-sessions';
import { requestLogging } from './request-logging';
import { endpointBulkWorkPerSubscriber, heavyListingsPerSubscriber, receiverWaitsPerSubscriber } from './subscriber-limits';
import { ingestRoutes } from './sources/ingest-routes';
import { sourceRoutes } from './sources/source-routes';
import { RecordListingBudget } from './record-listing-budget';
import { usePlainValidationMessages } from './validation-messages';
import { reserveBodies } from './body-reservation';
import type { InFlightPerSubscriber } from './subscriber-limits';

/** The most a /v1 body may be (express.json's `limit`, in bytes). */
const V1_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The /v1 routes' bodies: JSON up to 1 MB, declared as JSON, never decompressed, at most
 * MAX_BODY_DEPTH deep, and the bytes a subscriber's own calls may have on their way in bounded
 * (reserveBodies).
 */
function readJsonBodies(bodiesInFlight: InFlightPerSubscriber): RequestHandler[] {
  const parse = express.json({ limit: V1_BODY_LIMIT_BYTES, type: JSON_MEDIA_TYPES, inflate: INFLATE_BODIES, verify: checkBodyShape });
  return [reserveBodies(bodiesInFlight, V1_BODY_LIMIT_BYTES, parse), requireJsonBodies()];
}

export function createApp(deps: ApiDeps): Express {
  usePlainValidationMessages();
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const refuseWhileStopping: RequestHandler = (_req, res, next) => {
    if (!deps.accepting()) {
      res.set('connection', 'close');
      return void res.status(503).json({ error: { code: 'shutting_down', message: 'server is shutting down' } });
    }
    next();
  };
  app.use(inSeries(requestLogging(deps.logger), refuseWhileStopping));
  // The API's answers carry secrets (created keys, signing secrets, ingest URLs) and one subscriber's
  // data: no browser, proxy or CDN may keep a copy. Set before the routes, so errors carry it too.
  app.use(['/v1', '/in'], (_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  // Every request walks the layers ahead of its route, each a path match: /v1 comes first, and
  // publishes first within it, so a single publish is matched against ~8 layers rather than ~25
  // (the router was ~40 us of a publish's ~400 us of CPU in `BENCH_PROFILE=1 npm run bench`). No
  // two of these routers serve a common path, so their order changes nothing else.
  app.use('/v1', v1Routes(deps));
  app.use(healthRoutes(deps));
  app.get('/openapi.json', (req, res) => {
    const { body, etag } = openApiAnswer();
    res.set('ETag', etag);
    if (req.fresh) return void res.status(304).end();
    res.type('json').send(body);
  });
  // Inbound sources read their body raw (signatures are over the exact bytes) and check their own token.
  app.use(ingestRoutes(deps));
  // The subscriber portal (apps/portal): static files on the public /v1 API; a clear 503 when not built.
  app.use('/portal', portalStatic(undefined, { platformName: deps.platformName }));

  app.use(noSuchRoute(app));
  app.use(errorHandler(deps.logger));
  return app;
}

/** The authenticated API: keys checked, then bodies read, then the routes, publishes first. */
function v1Routes(deps: ApiDeps): express.Router {
  const v1 = express.Router();
  // Bodies are read only for a caller with a key: read first, a client with none could hold ~1 MB
  // of this shared process per connection by sending most of a body and stopping (measured by an
  // audit: 200 connections, 212 MB). Refused before, the body is never buffered (Node discards it).
  v1.use(inSeries(authenticate(deps.adminKey, deps.store, deps.now), enforceReadOnlySessions(), ...readJsonBodies(deps.apiBodiesInFlight)));
  // One budget for the two routers: a verification and a test send each wait on a receiver.
  const receiverWaits = receiverWaitsPerSubscriber();
  // One for a recover and a disable: each works through many of an endpoint's deliveries.
  const bulkWork = endpointBulkWorkPerSubscriber();
  // And one for the listings that read much more than a page shows.
  const heavyListings = heavyListingsPerSubscriber();
  v1.use('/subscribers/:sid/events', eventRoutes(deps));
  v1.use('/subscribers/:sid/events', eventHistoryRoutes(deps, heavyListings));
  v1.use('/event-types', eventTypeRoutes(deps));
  v1.use(adminRoutes(deps));
  // Those places bound such listings at a time; pages of large records are charged over time too.
  const recordListings = new RecordListingBudget(deps, heavyListings);
  const endpointPlaces = { verifications: receiverWaits.verifications, disables: bulkWork.disables, recordListings };
  v1.use('/subscribers/:sid/endpoints', endpointRoutes(deps, endpointPlaces));
  v1.use('/subscribers/:sid/endpoints', endpointActionRoutes(deps, { testSends: receiverWaits.testSends, recovers: bulkWork.recovers }));
  v1.use('/subscribers/:sid/endpoints', endpointStatsRoutes(deps));
  v1.use('/subscribers/:sid/deliveries', deliveryRoutes(deps, heavyListings));
  v1.use('/subscribers/:sid/sources', sourceRoutes(deps, { heavyListings, recordListings }));
  v1.use('/subscribers/:sid/portal-sessions', portalSessionRoutes(deps));
  return v1;
}
