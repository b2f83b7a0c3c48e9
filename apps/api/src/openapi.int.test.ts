import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGuardedAgent } from '@hookrelay/delivery';
import { createLogger } from '@hookrelay/observability';
import { createDeliveryQueue } from '@hookrelay/queue';
import type { Express } from 'express';
import { z } from 'zod';
import { startApiHarness, type ApiHarness } from './api-harness';
import { createApp } from './app';
import { createEndpointSchema, patchEndpointSchema, rotateSecretSchema } from './endpoint-input';

type Json = Record<string, any>;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
/** The catch-all 404 in app.ts: what a request for a path the app does not serve gets. */
const isNoSuchRoute = (status: number, body: any) => status === 404 && body?.error?.code === 'not_found' && body?.error?.message === 'no such route';

const fileDoc = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as Json;

/** Documented operations as `METHOD /path/{param}`. */
function documentedOperations(doc: Json): Array<{ method: string; path: string; op: Json }> {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((m) => (item as Json)[m]).map((method) => ({ method: method.toUpperCase(), path, op: (item as Json)[method] as Json })),
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

interface RegisteredRoute {
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
 * layer has `handle.stack`). Throws rather than skipping anything it cannot read, so a change in
 * express internals fails this test instead of silently shrinking the list.
 */
function registeredRoutes(stack: RouterLayer[], prefix = ''): RegisteredRoute[] {
  return stack.flatMap((layer): RegisteredRoute[] => {
    if (layer.route) {
      if (typeof layer.route.path !== 'string') throw new Error(`route path is not a string under ${prefix}`);
      const path = joinPath(prefix, layer.route.path);
      return Object.keys(layer.route.methods)
        .filter((m) => m !== '_all')
        .map((m) => ({ method: m.toUpperCase(), path }));
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
    harness = await startApiHarness({ worker: false });
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
  });

  it('has no dangling $ref', () => {
    expect(() => resolveRefs(fileDoc, fileDoc.paths)).not.toThrow();
  });

  describe('against the routes the express app registers', () => {
    let routes: RegisteredRoute[];

    beforeAll(() => {
      routes = registeredRoutes((app as unknown as { router: { stack: RouterLayer[] } }).router.stack);
    });

    it('reads the router stack (sanity check of the walk itself)', () => {
      expect(routes).toEqual(
        expect.arrayContaining([
          { method: 'GET', path: '/healthz' },
          { method: 'POST', path: '/v1/subscribers/:sid/endpoints' },
          { method: 'POST', path: '/v1/subscribers/:sid/events/batch' },
        ]),
      );
    });

    it('documents every registered route with its method', () => {
      const documented = new Set(documentedOperations(fileDoc).map((o) => `${o.method} ${o.path}`));
      const missing = routes.map((r) => `${r.method} ${toOpenApiPath(r.path)}`).filter((r) => !documented.has(r));
      expect(missing).toEqual([]);
    });

    it('documents nothing the app does not register', () => {
      const registered = new Set(routes.map((r) => `${r.method} ${toOpenApiPath(r.path)}`));
      const extra = documentedOperations(fileDoc)
        .map((o) => `${o.method} ${o.path}`)
        .filter((o) => !registered.has(o));
      expect(extra).toEqual([]);
    });
  });

  describe('request schemas', () => {
    const schemas = fileDoc.components.schemas as Json;
    it.each([
      ['CreateEndpointRequest', createEndpointSchema],
      ['UpdateEndpointRequest', patchEndpointSchema],
      ['RotateSecretRequest', rotateSecretSchema],
    ] as const)('%s matches the zod schema the route parses with (fields, defaults, enums, limits)', (name, schema) => {
      const documented = withoutAnnotations(resolveRefs(fileDoc, schemas[name]));
      const fromZod = withoutAnnotations(z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }));
      expect(documented).toEqual(fromZod);
    });
  });

  describe('every documented operation, exercised with a real request', () => {
    let sid: string;
    let eid: string;

    beforeAll(async () => {
      const subscriber = await harness.call('POST', '/v1/subscribers', { body: { name: 'openapi fixture' } });
      expect(subscriber.status).toBe(201);
      sid = subscriber.body.id;
      const endpoint = await harness.call('POST', `/v1/subscribers/${sid}/endpoints`, { body: { url: 'http://127.0.0.1:9/hook' } });
      expect(endpoint.status).toBe(201);
      eid = endpoint.body.id;
    });

    const concrete = (path: string) => path.replace('{sid}', sid).replace('{eid}', eid);

    /** The documented example body, pointed at a loopback URL where it names a target (no DNS, no traffic: verify is none). */
    function exampleBody(op: Json): unknown {
      const example = op.requestBody?.content?.['application/json']?.example;
      if (op.operationId === 'createEndpoint') return { ...example, url: 'http://127.0.0.1:9/example' };
      return example;
    }

    it('answers with a documented status and body, never the catch-all 404', async () => {
      // DELETE last, so the other operations still find the fixture endpoint.
      const ops = documentedOperations(fileDoc).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
      const problems: string[] = [];
      for (const { method, path, op } of ops) {
        const res = await harness.call(method, concrete(path), { body: exampleBody(op) });
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
        if (res.status >= 300) problems.push(`${label}: expected the documented example to succeed (${JSON.stringify(res.body).slice(0, 200)})`);
        const response = resolveRefs(fileDoc, documented);
        const schema = response.content?.['application/json']?.schema;
        if (schema) {
          const check = z.fromJSONSchema(schema).safeParse(res.body);
          if (!check.success) problems.push(`${label}: body does not match the documented schema: ${check.error.message}`);
        } else if (response.content?.['text/plain']) {
          if (typeof res.body !== 'string') problems.push(`${label}: expected text`);
        } else if (res.body !== null) {
          problems.push(`${label}: expected no body`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('answers 401 with the documented error envelope on every secured operation when the key is missing', async () => {
      const problems: string[] = [];
      for (const { method, path, op } of documentedOperations(fileDoc)) {
        const secured = (op.security ?? fileDoc.security).length > 0;
        const res = await harness.call(method, concrete(path), { key: null, body: exampleBody(op) });
        if (!secured) {
          if (res.status === 401) problems.push(`${method} ${path}: documented without security but answered 401`);
          continue;
        }
        const documented = op.responses?.['401'];
        if (res.status !== 401 || !documented) {
          problems.push(`${method} ${path}: got ${res.status}, 401 ${documented ? '' : 'not '}documented`);
          continue;
        }
        const schema = resolveRefs(fileDoc, documented).content['application/json'].schema;
        if (!z.fromJSONSchema(schema).safeParse(res.body).success) problems.push(`${method} ${path}: 401 body ${JSON.stringify(res.body)}`);
      }
      expect(problems).toEqual([]);
    });

    it.each([
      ['404 for an unknown subscriber', 'GET', (): string => `/v1/subscribers/sub_nobody/endpoints`, undefined, 404],
      ['400 for an invalid endpoint', 'POST', (): string => `/v1/subscribers/${sid}/endpoints`, { url: 'http://127.0.0.1:9/x', timeoutMs: 0 }, 400],
      ['400 for an unknown event type', 'POST', (): string => `/v1/subscribers/${sid}/events`, { type: 'nope.nothing', payload: {} }, 400],
    ] as const)('documents the error it answers: %s', async (_name, method, path, body, status) => {
      const res = await harness.call(method, path(), { body });
      expect(res.status).toBe(status);
      const template = `/v1/subscribers/{sid}/${path().split('/').slice(4).join('/')}`;
      const documented = fileDoc.paths[template]?.[method.toLowerCase()]?.responses?.[String(status)];
      expect(documented).toBeDefined();
      const schema = resolveRefs(fileDoc, documented).content['application/json'].schema;
      expect(z.fromJSONSchema(schema).safeParse(res.body).success).toBe(true);
    });
  });
});
