import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { retryPolicyPatchSchema } from '@hookrelay/contracts';
import type { Express } from 'express';
import { request } from 'undici';
import { z } from 'zod';
import { startApiHarness, type ApiHarness } from './api-harness';
import { createApp } from './app';
import { createEventTypeSchema, patchEventTypeSchema } from './catalog/event-type-input';
import { createEndpointSchema, patchEndpointSchema, rotateSecretSchema } from './endpoint-input';
import { createOpenApiFixture, type OpenApiFixture } from './openapi-fixture';
import { updateSubscriberSchema } from './routes/admin';
import { createPortalSessionSchema } from './routes/portal-sessions';
import { createSourceSchema, patchSourceSchema } from './sources/source-input';

type Json = Record<string, any>;
type ApiResponse = { status: number; body: any; headers: Headers };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
/** The catch-all 404 in app.ts: what a request for a path the app does not serve gets. */
const isNoSuchRoute = (status: number, body: any) =>
  status === 404 && body?.error?.code === 'not_found' && body?.error?.message === 'no such route';

const fileDoc = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as Json;

interface DocumentedOperation {
  method: string;
  path: string;
  op: Json;
  /** Path-level parameters, $refs resolved. */
  pathParameters: Json[];
}

/** Documented operations as `METHOD /path/{param}`. */
function documentedOperations(doc: Json): DocumentedOperation[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((m) => (item as Json)[m]).map((method) => ({
      method: method.toUpperCase(),
      path,
      op: (item as Json)[method] as Json,
      pathParameters: resolveRefs(doc, (item as Json).parameters ?? []) as Json[],
    })),
  );
}

/** Inlines local `$ref`s (3.1 allows siblings beside a $ref, e.g. `default`; they win over the target's keys). */
function resolveRefs(doc: Json, node: unknown): any {
  if (Array.isArray(node)) return node.map((n) => resolveRefs(doc, n));
  if (!node || typeof node !== 'object') return node;
  const { $ref, ...rest } = node as Json;
  const resolvedRest = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, resolveRefs(doc, v)]));
  if (typeof $ref !== 'string') return resolvedRest;
  const target = $ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<any>((at, key) => at?.[key], doc);
  if (target === undefined) throw new Error(`dangling $ref ${$ref}`);
  return { ...resolveRefs(doc, target), ...resolvedRest };
}

/** JSON Schema without the keys that only document (so it can be compared with zod's output). */
function withoutAnnotations(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutAnnotations);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node as Json)
      .filter(([k]) => !['description', 'example', 'examples', 'title', '$schema'].includes(k))
      .map(([k, v]) => [k, k === 'default' ? v : withoutAnnotations(v)]),
  );
}

/** The schema and every subschema that applies to `value`: all of allOf, and the oneOf/anyOf branch it matches. */
function appliedSchemas(schema: Json, value: unknown): Json[] {
  const out = [schema];
  for (const part of schema.allOf ?? []) out.push(...appliedSchemas(part, value));
  for (const key of ['oneOf', 'anyOf']) {
    const branch = (schema[key] ?? []).find((b: Json) => z.fromJSONSchema(b).safeParse(value).success);
    if (branch) out.push(...appliedSchemas(branch, value));
  }
  return out;
}

/**
 * Fields a response has that its documented schema does not name. zod's fromJSONSchema lets unknown
 * keys through (and cannot read `unevaluatedProperties`), so without this a field added to a
 * response would pass the schema check undocumented. An object schema that names no properties
 * (free-form, e.g. a payload) is not looked into.
 */
function undocumentedFields(schema: Json, value: unknown, at = '$'): string[] {
  const applied = appliedSchemas(schema, value);
  if (Array.isArray(value)) {
    const items = applied.map((s) => s.items as Json | undefined).filter((s): s is Json => !!s);
    return value.flatMap((v, i) => items.flatMap((s) => undocumentedFields(s, v, `${at}[${i}]`)));
  }
  if (!value || typeof value !== 'object') return [];
  const named = applied.filter((s) => s.properties);
  const additional = applied.map((s) => s.additionalProperties).find((a) => a !== undefined);
  if (named.length === 0 && additional === undefined) return [];
  const found = Object.entries(value as Json).flatMap(([key, v]) => {
    const declared = named.map((s) => s.properties[key] as Json | undefined).filter((s): s is Json => !!s);
    if (declared.length > 0) return declared.flatMap((s) => undocumentedFields(s, v, `${at}.${key}`));
    if (additional && typeof additional === 'object') return undocumentedFields(additional, v, `${at}.${key}`);
    return additional === true ? [] : [`${at}.${key}`];
  });
  return [...new Set(found)];
}

/**
 * Problems with a response against its documented response object: the content type must be one it
 * documents, a JSON body must match the schema and name no field the schema does not, and a
 * response documented without content must have no body.
 */
function bodyProblems(label: string, documented: Json, res: ApiResponse): string[] {
  const response = resolveRefs(fileDoc, documented) as Json;
  const content = response.content as Json | undefined;
  if (!content) return res.body === null ? [] : [`${label}: expected no body`];
  const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  const media = content[type] as Json | undefined;
  if (!media) return [`${label}: answered ${type || 'without a content type'}, documented ${Object.keys(content).join(', ')}`];
  if (type !== 'application/json') return typeof res.body === 'string' ? [] : [`${label}: expected text`];
  if (!media.schema) return [];
  const check = z.fromJSONSchema(media.schema).safeParse(res.body);
  if (!check.success) return [`${label}: body does not match the documented schema: ${check.error.message}`];
  const extra = undocumentedFields(media.schema, res.body);
  return extra.length ? [`${label}: undocumented fields ${extra.join(', ')}`] : [];
}

interface RegisteredRoute {
  /** Upper case, or `ALL` for a route registered with `router.all`. */
  method: string;
  path: string;
}

interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
  rawPath?: unknown;
  handle?: { stack?: RouterLayer[] };
}

function joinPath(prefix: string, path: string): string {
  const joined = `${prefix}/${path}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

/**
 * Every route the express app registers, read from its router stack (express 5 / router 2: a layer
 * keeps the path it was registered with in `rawPath`; a route layer has `route`; a mounted router's
 * layer has `handle.stack`; `router.all` marks a route's methods `_all`, reported here as `ALL`).
 * Throws rather than skipping anything it cannot read, so a change in express internals fails this
 * test instead of silently shrinking the list.
 */
function registeredRoutes(stack: RouterLayer[], prefix = ''): RegisteredRoute[] {
  return stack.flatMap((layer): RegisteredRoute[] => {
    if (layer.route) {
      if (typeof layer.route.path !== 'string') throw new Error(`route path is not a string under ${prefix}`);
      const path = joinPath(prefix, layer.route.path);
      return Object.keys(layer.route.methods).map((m) => ({ method: m === '_all' ? 'ALL' : m.toUpperCase(), path }));
    }
    if (Array.isArray(layer.handle?.stack)) {
      if (typeof layer.rawPath !== 'string') throw new Error(`cannot recover the mount path of a router under ${prefix || '/'}`);
      return registeredRoutes(layer.handle.stack, joinPath(prefix, layer.rawPath));
    }
    return [];
  });
}

/** express `/v1/subscribers/:sid` -> OpenAPI `/v1/subscribers/{sid}`. */
const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

describe('the OpenAPI document', () => {
  let harness: ApiHarness;
  let app: Express;

  beforeAll(async () => {
    // With a worker: the fixtures need deliveries that have ended.
    harness = await startApiHarness();
    // A second app from the same factory and deps, only to read its router stack.
    app = createApp(harness.deps);
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('is served at GET /openapi.json as OpenAPI 3.1, the same as the file in the repo', async () => {
    const res = await harness.call('GET', '/openapi.json', { key: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.1\.\d+$/);
    expect(res.body).toEqual(fileDoc);
    // Tagged, so a client that has it can revalidate instead of fetching ~180 KB again.
    const etag = res.headers.get('etag') as string;
    expect(etag).toMatch(/^".+"$/);
    const again = await request(`${harness.baseUrl}/openapi.json`, { headers: { 'if-none-match': etag } });
    expect([again.statusCode, await again.body.text()]).toEqual([304, '']);
  });

  it('has no dangling $ref', () => {
    expect(() => resolveRefs(fileDoc, fileDoc.paths)).not.toThrow();
  });

  it('names every operation uniquely', () => {
    const ids = documentedOperations(fileDoc).map((o) => o.op.operationId as string);
    expect(ids.filter((id, i) => !id || ids.indexOf(id) !== i)).toEqual([]);
  });

  describe('against the routes the express app registers', () => {
    let routes: RegisteredRoute[];
    let documented: Array<{ method: string; path: string }>;

    beforeAll(() => {
      routes = registeredRoutes((app as unknown as { router: { stack: RouterLayer[] } }).router.stack).map((r) => ({
        ...r,
        path: toOpenApiPath(r.path),
      }));
      documented = documentedOperations(fileDoc);
    });

    it('reads the router stack (sanity check of the walk itself)', () => {
      expect(routes).toEqual(
        expect.arrayContaining([
          { method: 'GET', path: '/healthz' },
          { method: 'POST', path: '/v1/subscribers/{sid}/endpoints' },
          { method: 'POST', path: '/v1/subscribers/{sid}/events/batch' },
          { method: 'POST', path: '/v1/subscribers/{sid}/deliveries/{did}/retry' },
          { method: 'ALL', path: '/in/{token}' },
        ]),
      );
    });

    it('documents every registered route with its method (an `all` route with at least one)', () => {
      const missing = routes
        .filter((r) => !documented.some((o) => o.path === r.path && (r.method === 'ALL' || o.method === r.method)))
        .map((r) => `${r.method} ${r.path}`);
      expect(missing).toEqual([]);
    });

    it('documents nothing the app does not register', () => {
      const extra = documented
        .filter((o) => !routes.some((r) => r.path === o.path && (r.method === 'ALL' || r.method === o.method)))
        .map((o) => `${o.method} ${o.path}`);
      expect(extra).toEqual([]);
    });
  });

  describe('request schemas', () => {
    const schemas = fileDoc.components.schemas as Json;
    it.each([
      ['CreateEndpointRequest', createEndpointSchema],
      ['UpdateEndpointRequest', patchEndpointSchema],
      ['RetryPolicyPatch', retryPolicyPatchSchema],
      ['RotateSecretRequest', rotateSecretSchema],
      ['CreateSourceRequest', createSourceSchema],
      ['UpdateSourceRequest', patchSourceSchema],
      ['UpdateSubscriberRequest', updateSubscriberSchema],
      ['CreateEventTypeRequest', createEventTypeSchema],
      ['UpdateEventTypeRequest', patchEventTypeSchema],
      ['CreatePortalSessionRequest', createPortalSessionSchema],
    ] as const)('%s matches the zod schema the route parses with (fields, defaults, enums, limits)', (name, schema) => {
      const documented = withoutAnnotations(resolveRefs(fileDoc, schemas[name]));
      const fromZod = withoutAnnotations(z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }));
      expect(documented).toEqual(fromZod);
    });
  });

  describe('every documented operation, exercised with a real request', () => {
    let fx: OpenApiFixture;

    beforeAll(async () => {
      fx = await createOpenApiFixture(harness);
    });

    afterAll(async () => {
      await fx?.close();
    });

    /** The fixture's id for a path parameter, by the segment before it (`endpoints/{eid}` is not `events/{eid}`). */
    function fixtureIds(): Record<string, string> {
      return {
        subscribers: fx.sid,
        endpoints: fx.endpointId,
        events: fx.eventId,
        deliveries: fx.deliveryId,
        sources: fx.sourceId,
        in: fx.ingestToken,
        'api-keys': fx.apiKeyId,
        'event-types': fx.eventType,
        'portal-sessions': fx.portalSessionId,
      };
    }

    function concrete(path: string, ids: Record<string, string> = {}): string {
      const byCollection = { ...fixtureIds(), ...ids };
      return path.replace(/([^/]+)\/\{(\w+)\}/g, (_match, collection: string, name: string) => {
        const id = byCollection[collection];
        if (!id) throw new Error(`no fixture for {${name}} in ${path}`);
        return `${collection}/${id}`;
      });
    }

    /** Each documented path parameter's example id -> the fixture's id, so documented example bodies name real resources. */
    function exampleIds(): Map<string, string> {
      const map = new Map<string, string>();
      for (const { path, pathParameters } of documentedOperations(fileDoc)) {
        const real = concrete(path).split('/');
        path.split('/').forEach((segment, i) => {
          const name = /^\{(\w+)\}$/.exec(segment)?.[1];
          const example = pathParameters.find((p) => p.in === 'path' && p.name === name)?.example;
          if (typeof example === 'string' && real[i]) map.set(example, real[i]);
        });
      }
      return map;
    }

    /** The documented example body, with example ids made real, pointed at a loopback URL where it names a target (no DNS, no traffic: verify is none). */
    function exampleBody(op: Json): unknown {
      const example = op.requestBody?.content?.['application/json']?.example;
      if (op.operationId === 'createEndpoint') return { ...example, url: 'http://127.0.0.1:9/example' };
      const ids = exampleIds();
      const swap = (node: unknown): unknown => {
        if (typeof node === 'string') return ids.get(node) ?? node;
        if (Array.isArray(node)) return node.map(swap);
        if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, swap(v)]));
        return node;
      };
      return swap(example);
    }

    /** What some operations need besides a key and a body: the ingest URL takes the source's verification header instead of a key. */
    function extrasFor(op: Json): { query: string; headers?: Record<string, string> } {
      if (op.operationId === 'ingest') return { query: '', headers: fx.ingestHeaders };
      if (op.operationId === 'ingestChallenge') return { query: '?challenge=openapi-challenge', headers: fx.ingestHeaders };
      return { query: '' };
    }

    async function callDocumented(method: string, path: string, op: Json, key?: null): Promise<ApiResponse> {
      const { query, headers } = extrasFor(op);
      return harness.call(method, `${concrete(path)}${query}`, { key, body: exampleBody(op), headers });
    }

    it('answers 401 with the documented error envelope on every secured operation when the key is missing', async () => {
      const problems: string[] = [];
      for (const { method, path, op } of documentedOperations(fileDoc)) {
        const secured = (op.security ?? fileDoc.security).length > 0;
        const res = await callDocumented(method, path, op, null);
        if (!secured) {
          if (res.status === 401) problems.push(`${method} ${path}: documented without security but answered 401`);
          else if (!op.responses?.[String(res.status)]) problems.push(`${method} ${path}: without a key got ${res.status}, not documented`);
          continue;
        }
        const documented = op.responses?.['401'];
        if (res.status !== 401 || !documented) {
          problems.push(`${method} ${path}: got ${res.status}, 401 ${documented ? '' : 'not '}documented`);
          continue;
        }
        problems.push(...bodyProblems(`${method} ${path} -> 401`, documented, res));
      }
      expect(problems).toEqual([]);
    });

    type ErrorCase = {
      method: string;
      /** The documented path. */
      path: string;
      /** Ids to use instead of the fixture's, by the collection before them (`deliveries`). */
      ids?: () => Record<string, string>;
      /** Appended to the path, `?` included. */
      query?: string;
      body?: unknown;
      headers?: () => Record<string, string>;
      status: number;
      code: string;
      message?: RegExp;
    };
    it.each<[string, ErrorCase]>([
      [
        '404 for an unknown subscriber',
        {
          method: 'GET',
          path: '/v1/subscribers/{sid}/endpoints',
          ids: () => ({ subscribers: 'sub_nobody' }),
          status: 404,
          code: 'not_found',
        },
      ],
      [
        '400 for an invalid endpoint',
        {
          method: 'POST',
          path: '/v1/subscribers/{sid}/endpoints',
          body: { url: 'http://127.0.0.1:9/x', timeoutMs: 0 },
          status: 400,
          code: 'validation_failed',
        },
      ],
      [
        '400 for an unknown event type',
        {
          method: 'POST',
          path: '/v1/subscribers/{sid}/events',
          body: { type: 'nope.nothing', payload: {} },
          status: 400,
          code: 'validation_failed',
        },
      ],
      [
        '400 for publishing endpoint.disabled, a type only Hookrelay sends',
        {
          method: 'POST',
          path: '/v1/subscribers/{sid}/events',
          body: {
            type: 'endpoint.disabled',
            payload: { endpointId: 'ep_x', url: 'https://x.example', reason: 'manual', disabledAt: '2026-01-01T00:00:00.000Z' },
          },
          status: 400,
          code: 'validation_failed',
          message: /reserved/,
        },
      ],
      [
        '400 for publishing hookrelay.test in a batch',
        {
          method: 'POST',
          path: '/v1/subscribers/{sid}/events/batch',
          body: { events: [{ type: 'hookrelay.test', payload: { type: 'hookrelay.test', test: true, endpointId: 'ep_x' } }] },
          status: 400,
          code: 'validation_failed',
          message: /reserved/,
        },
      ],
      [
        '409 for retrying a delivery that is still retrying',
        {
          method: 'POST',
          path: '/v1/subscribers/{sid}/deliveries/{did}/retry',
          ids: () => ({ deliveries: fx.retryingDeliveryId }),
          status: 409,
          code: 'delivery_in_progress',
        },
      ],
      [
        '400 for a payload nested deeper than 64 levels',
        {
          method: 'POST',
          path: '/v1/subscribers/{sid}/events',
          body: `{"type":"custom.deep","payload":${'['.repeat(65)}${']'.repeat(65)}}`,
          status: 400,
          code: 'validation_failed',
          message: /64 levels/,
        },
      ],
      [
        "409 for an endpoint over the subscriber's quota",
        {
          method: 'POST',
          path: '/v1/subscribers/{sid}/endpoints',
          ids: () => ({ subscribers: fx.fullSid }),
          body: { url: 'http://127.0.0.1:9/x' },
          status: 409,
          code: 'quota_exceeded',
        },
      ],
      [
        "409 for a source over the subscriber's quota",
        {
          method: 'POST',
          path: '/v1/subscribers/{sid}/sources',
          ids: () => ({ subscribers: fx.fullSid }),
          body: { name: 'x', eventType: 'source.x', verification: { type: 'header', headers: { 'x-t': 'secret-123' } } },
          status: 409,
          code: 'quota_exceeded',
        },
      ],
      [
        "404 for deliveries of an endpoint that is not the subscriber's",
        {
          method: 'GET',
          path: '/v1/subscribers/{sid}/deliveries',
          query: '?endpointId=ep_0000000000000000000000000',
          status: 404,
          code: 'not_found',
        },
      ],
      [
        "404 for the stats of an endpoint that is not the subscriber's",
        {
          method: 'GET',
          path: '/v1/subscribers/{sid}/endpoints/{eid}/stats',
          ids: () => ({ endpoints: 'ep_0000000000000000000000000' }),
          status: 404,
          code: 'not_found',
        },
      ],
      [
        '400 for stats since an hour no longer kept',
        {
          method: 'GET',
          path: '/v1/subscribers/{sid}/endpoints/{eid}/stats',
          query: '?since=2024-05-14T02:00:00Z',
          status: 400,
          code: 'validation_failed',
          message: /query\.since/,
        },
      ],
      [
        '404 for an unknown delivery',
        {
          method: 'GET',
          path: '/v1/subscribers/{sid}/deliveries/{did}',
          ids: () => ({ deliveries: 'dlv_nothing' }),
          status: 404,
          code: 'not_found',
        },
      ],
      [
        '400 for an unknown delivery filter value',
        { method: 'GET', path: '/v1/subscribers/{sid}/deliveries', query: '?status=lost', status: 400, code: 'validation_failed' },
      ],
      [
        '400 for an unknown query parameter',
        { method: 'GET', path: '/v1/subscribers/{sid}/events', query: '?colour=red', status: 400, code: 'validation_failed' },
      ],
      [
        '404 for an unknown event',
        {
          method: 'GET',
          path: '/v1/subscribers/{sid}/events/{eid}',
          ids: () => ({ events: 'evt_nothing' }),
          status: 404,
          code: 'not_found',
        },
      ],
      [
        "400 for replaying to an endpoint that is not the subscriber's",
        {
          method: 'POST',
          path: '/v1/subscribers/{sid}/events/{eid}/replay',
          body: { endpointIds: ['ep_nobody'] },
          status: 400,
          code: 'validation_failed',
        },
      ],
      [
        '400 for recovering without `since`',
        { method: 'POST', path: '/v1/subscribers/{sid}/endpoints/{eid}/recover', body: {}, status: 400, code: 'validation_failed' },
      ],
      [
        '400 for an unauthenticated source while the switch is off',
        {
          method: 'POST',
          path: '/v1/subscribers/{sid}/sources',
          body: { name: 'open', eventType: 'source.open', verification: { type: 'none' } },
          status: 400,
          code: 'validation_failed',
        },
      ],
      [
        '404 for an unknown source',
        {
          method: 'GET',
          path: '/v1/subscribers/{sid}/sources/{id}',
          ids: () => ({ sources: 'src_nothing' }),
          status: 404,
          code: 'not_found',
        },
      ],
      [
        '401 for an ingest request that fails verification',
        {
          method: 'POST',
          path: '/in/{token}',
          body: {},
          headers: () => ({ 'x-openapi-token': 'wrong' }),
          status: 401,
          code: 'unauthorized',
        },
      ],
      [
        '404 for an ingest URL no source has',
        { method: 'POST', path: '/in/{token}', ids: () => ({ in: 'no-such-token' }), body: {}, status: 404, code: 'not_found' },
      ],
      [
        '409 for defining a built-in event type',
        { method: 'POST', path: '/v1/event-types', body: { type: 'incident.triggered' }, status: 409, code: 'built_in' },
      ],
      [
        '409 for archiving a built-in event type',
        {
          method: 'DELETE',
          path: '/v1/event-types/{type}',
          ids: () => ({ 'event-types': 'receipt.sms.delivered' }),
          status: 409,
          code: 'built_in',
        },
      ],
      [
        '400 for an example that fails its schema',
        {
          method: 'POST',
          path: '/v1/event-types',
          body: { type: 'openapi.bad', schema: { type: 'object', required: ['a'] }, examples: [{}] },
          status: 400,
          code: 'validation_failed',
          message: /examples\.0\.a/,
        },
      ],
      [
        '404 for an event type nobody defined',
        { method: 'GET', path: '/v1/event-types/{type}', ids: () => ({ 'event-types': 'nothing.here' }), status: 404, code: 'not_found' },
      ],
      [
        '405 for a GET to the ingest URL without a challenge',
        { method: 'GET', path: '/in/{token}', headers: () => fx.ingestHeaders, status: 405, code: 'method_not_allowed' },
      ],
    ])('documents the error it answers: %s', async (_name, c) => {
      const res = await harness.call(c.method, `${concrete(c.path, c.ids?.())}${c.query ?? ''}`, { body: c.body, headers: c.headers?.() });
      expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: c.status, code: c.code });
      if (c.message) expect(res.body.error.message).toMatch(c.message);
      const documented = fileDoc.paths[c.path]?.[c.method.toLowerCase()]?.responses?.[String(c.status)];
      expect(documented).toBeDefined();
      expect(bodyProblems(`${c.method} ${c.path} -> ${c.status}`, documented, res)).toEqual([]);
    });

    it('answers 405 to every method an `all` route is not documented with (so it serves nothing undocumented)', async () => {
      const allRoutes = registeredRoutes((app as unknown as { router: { stack: RouterLayer[] } }).router.stack)
        .filter((r) => r.method === 'ALL')
        .map((r) => toOpenApiPath(r.path));
      expect(allRoutes.length).toBeGreaterThan(0);
      // A source of its own: every refused method counts against its source's rate, and the fixture
      // source's 10 a second (after the documented PATCH example) must stay free for the ingest operations.
      const own = await harness.call('POST', `/v1/subscribers/${fx.sid}/sources`, {
        body: {
          name: 'openapi methods',
          eventType: 'source.openapi.methods',
          verification: { type: 'header', headers: fx.ingestHeaders },
          rateLimit: { perSecond: 10_000, perMinute: 100_000 },
        },
      });
      expect(own.status).toBe(201);
      const ownToken = String(own.body.ingestUrl).replace(/^\/in\//, '');
      const problems: string[] = [];
      for (const path of allRoutes) {
        const documented = documentedOperations(fileDoc).filter((o) => o.path === path);
        for (const method of METHODS.map((m) => m.toUpperCase()).filter((m) => !documented.some((o) => o.method === m))) {
          // Everything a documented operation would need (verification headers, a challenge), so only the method decides.
          const res = await harness.call(method, `${concrete(path, { in: ownToken })}?challenge=openapi-challenge`, {
            body: method === 'GET' ? undefined : {},
            headers: fx.ingestHeaders,
          });
          if (res.status !== 405) problems.push(`${method} ${path}: answered ${res.status}, not documented`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('answers a PATCH with `secret` only when the change of scheme issued a new one, as documented', async () => {
      const base = `/v1/subscribers/${fx.sid}/endpoints`;
      const created = await harness.call('POST', base, {
        body: { url: `${fx.receiver.url}/rescheme`, eventTypes: ['custom.openapi.none'] },
      });
      expect(created.status).toBe(201);
      const documented = fileDoc.paths['/v1/subscribers/{sid}/endpoints/{eid}'].patch.responses['200'];

      const rescheme = await harness.call('PATCH', `${base}/${created.body.id}`, { body: { signature: { scheme: 'standard-webhooks' } } });
      expect(rescheme.status).toBe(200);
      expect(bodyProblems('PATCH scheme', documented, rescheme)).toEqual([]);
      expect(rescheme.body.secret).toMatch(/^whsec_/);
      expect((await harness.call('GET', `${base}/${created.body.id}/secret`)).body.secret).toBe(rescheme.body.secret);

      const rename = await harness.call('PATCH', `${base}/${created.body.id}`, { body: { description: 'renamed' } });
      expect(rename.status).toBe(200);
      expect(bodyProblems('PATCH description', documented, rename)).toEqual([]);
      expect(rename.body).not.toHaveProperty('secret');
    });

    // Last: it deletes the fixture endpoint and source.
    it('answers with a documented status and body, never the catch-all 404', async () => {
      // DELETE last, so the other operations still find the fixture endpoint and source.
      const ops = documentedOperations(fileDoc).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
      const problems: string[] = [];
      for (const { method, path, op } of ops) {
        const res = await callDocumented(method, path, op);
        const label = `${method} ${path} -> ${res.status}`;
        if (isNoSuchRoute(res.status, res.body)) {
          problems.push(`${label}: the app does not serve it`);
          continue;
        }
        const documented = op.responses?.[String(res.status)];
        if (!documented) {
          problems.push(`${label}: status not documented (${JSON.stringify(res.body).slice(0, 200)})`);
          continue;
        }
        if (res.status >= 300)
          problems.push(`${label}: expected the documented example to succeed (${JSON.stringify(res.body).slice(0, 200)})`);
        // info.description promises it on every response.
        if (!res.headers.get('x-request-id')) problems.push(`${label}: no X-Request-Id`);
        problems.push(...bodyProblems(label, documented, res));
      }
      expect(problems).toEqual([]);
    });
  });
});
