import { builtInEventType, type EventPayloadIssue } from '@hookrelay/contracts';
import type { EventTypeRecord, SaveEventTypeResult } from '@hookrelay/store';
import { Router, type Request, type Response } from 'express';
import { requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import { AppError, fromZod, NotFoundError, ValidationError } from '../errors';
import {
  createEventTypeSchema,
  DEFAULT_EVENT_TYPE_SCHEMA,
  listEventTypesQuery,
  MAX_EXAMPLES_BYTES,
  patchEventTypeSchema,
  reservedNamespace,
} from './event-type-input';
import type { ListingAnswer } from './catalog-listing';
import { viewOfRecord } from './live-catalog';
import type { CompiledSchema } from './schema-compiler';
import { guardSchema } from './schema-guard';

/** Attempts at a PATCH whose record another writer changed in between. */
const UPDATE_ATTEMPTS = 3;

function invalid(details: Array<{ path: string; message: string }>): ValidationError {
  return new ValidationError(`invalid event type: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`.slice(0, 1000), details);
}

const dotted = (path: Array<string | number>) => path.map(String).join('.');

/** Problems with a set of examples against a schema, each at `examples.<i>.<path>`. */
function exampleProblems(examples: unknown[], compiled: CompiledSchema): Array<{ path: string; message: string }> {
  if (Buffer.byteLength(JSON.stringify(examples)) > MAX_EXAMPLES_BYTES)
    return [{ path: 'examples', message: `must be at most ${MAX_EXAMPLES_BYTES} bytes of JSON together` }];
  return examples.flatMap((example, i) =>
    (compiled.check(example) ?? []).map((issue: EventPayloadIssue) => ({
      path: dotted(['examples', i, ...issue.path.slice(1)]),
      message: issue.message,
    })),
  );
}

function builtInConflict(type: string): AppError {
  return new AppError(409, 'built_in', `${type} is a built-in event type; it cannot be created, changed or archived`);
}

/**
 * /v1/event-types: the catalog as a resource. Anyone with a key reads it; only the admin key
 * writes. Every write passes the schema guard, checks the examples against the schema, and bumps
 * the catalog version so every API process enforces it within a second.
 */
export function eventTypeRoutes(deps: ApiDeps): Router {
  const router = Router();
  const { catalog, regex } = deps;
  const store = deps.store.eventTypes;

  /** The schema's compiled form once it passes the guard, and the examples pass it. */
  async function checked(schema: unknown, examples: unknown[]): Promise<CompiledSchema> {
    const guarded = await guardSchema(schema, regex);
    if (!guarded.ok) throw invalid(guarded.problems);
    const problems = exampleProblems(examples, guarded.compiled);
    if (problems.length > 0) throw invalid(problems);
    return guarded.compiled;
  }

  function saved(result: SaveEventTypeResult, type: string): void {
    if (result.ok) return;
    if (result.reason === 'exists')
      throw new AppError(
        409,
        'event_type_exists',
        `event type ${type} exists already (archived types too: PATCH {"archived": false} restores one)`,
      );
    if (result.reason === 'missing') throw new NotFoundError('event type');
    if (result.reason === 'too_many')
      throw new AppError(409, 'catalog_full', 'the catalog holds as many event types as it may (1,000); archived types count too');
    if (result.reason === 'too_large')
      throw new AppError(409, 'catalog_full', 'the catalog holds as many bytes of schemas and examples as it may (16 MB)');
  }

  const typeParam = (req: Request) => String(req.params.type);

  router.get('/', async (req, res) => {
    const parsed = listEventTypesQuery.safeParse(req.query);
    if (!parsed.success) throw fromZod(parsed.error, ['query']);
    const listing = await catalog.listing();
    sendListing(req, res, listing.answer({ prefix: parsed.data.prefix, includeArchived: parsed.data.includeArchived === 'true' }));
  });

  router.get('/:type', async (req, res) => {
    const answer = (await catalog.listing()).one(typeParam(req));
    if (!answer) throw new NotFoundError('event type');
    sendListing(req, res, answer);
  });

  router.post('/', async (req, res) => {
    requireAdmin(req);
    const parsed = createEventTypeSchema.safeParse(req.body);
    if (!parsed.success) throw fromZod(parsed.error);
    const input = parsed.data;
    if (builtInEventType(input.type) || input.type === 'custom.*') throw builtInConflict(input.type);
    const namespace = reservedNamespace(input.type);
    if (namespace)
      throw new AppError(
        409,
        'reserved_namespace',
        `"${namespace}." is a reserved namespace (Hookrelay's own, the built-in catalog's, custom. or source.); choose another for ${input.type}`,
      );
    const schema = input.schema ?? DEFAULT_EVENT_TYPE_SCHEMA;
    const compiled = await checked(schema, input.examples);
    const now = deps.now();
    const record: EventTypeRecord = {
      type: input.type,
      description: input.description,
      schema,
      examples: input.examples,
      deprecatedAt: input.deprecated ? now : null,
      archivedAt: null,
      revision: 1,
      createdAt: now,
      updatedAt: now,
    };
    saved(await store.create(record), input.type);
    catalog.invalidate();
    catalog.remember(record, compiled);
    res.status(201).json(viewOfRecord(record));
  });

  type Change = { record: EventTypeRecord; compiled?: CompiledSchema } | null;

  /** Applies `change` to the current record, retrying when another writer got in between. */
  async function update(type: string, change: (current: EventTypeRecord) => Promise<Change>): Promise<EventTypeRecord> {
    if (builtInEventType(type) || type === 'custom.*') throw builtInConflict(type);
    for (let attempt = 1; ; attempt++) {
      const current = await store.get(type);
      if (!current) throw new NotFoundError('event type');
      const next = await change(current);
      if (!next) return current;
      const result = await store.update(next.record, current.revision);
      if (result.ok) {
        catalog.invalidate();
        if (next.compiled) catalog.remember(next.record, next.compiled);
        return next.record;
      }
      if (result.reason !== 'conflict' || attempt >= UPDATE_ATTEMPTS) {
        if (result.reason === 'conflict')
          throw new AppError(409, 'conflict', `event type ${type} is being changed by another request; retry`);
        saved(result, type);
      }
    }
  }

  router.patch('/:type', async (req, res) => {
    requireAdmin(req);
    const type = typeParam(req);
    const parsed = patchEventTypeSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw fromZod(parsed.error);
    const patch = parsed.data;
    const record = await update(type, async (current) => {
      const now = deps.now();
      const next: EventTypeRecord = {
        ...current,
        description: patch.description ?? current.description,
        schema: patch.schema ?? current.schema,
        examples: patch.examples ?? current.examples,
        deprecatedAt: patch.deprecated === undefined ? current.deprecatedAt : patch.deprecated ? (current.deprecatedAt ?? now) : null,
        archivedAt: patch.archived === undefined ? current.archivedAt : patch.archived ? (current.archivedAt ?? now) : null,
        revision: current.revision + 1,
        updatedAt: now,
      };
      // Stored examples must also pass a new schema: a schema change the examples fail needs new examples.
      const compiled = patch.schema !== undefined || patch.examples !== undefined ? await checked(next.schema, next.examples) : undefined;
      return { record: next, compiled };
    });
    res.json(viewOfRecord(record));
  });

  /** Archives: the type stays (events in the history keep its meaning) but is hidden and refused on publish. */
  router.delete('/:type', async (req, res) => {
    requireAdmin(req);
    const record = await update(typeParam(req), async (current) =>
      current.archivedAt !== null
        ? null
        : { record: { ...current, archivedAt: deps.now(), revision: current.revision + 1, updatedAt: deps.now() } },
    );
    res.json(viewOfRecord(record));
  });

  return router;
}

/**
 * A listing's bytes written one part after another (CatalogListing: each type's JSON as made once
 * per catalog version), or a 304 when the caller's If-None-Match holds its tag: what res.send does
 * with one body, without joining the parts into one.
 */
function sendListing(req: Request, res: Response, { parts, length, etag }: ListingAnswer): void {
  res.set('ETag', etag);
  if (req.fresh) return void res.status(304).end();
  res.type('json').set('Content-Length', String(length));
  if (req.method === 'HEAD') return void res.end();
  res.cork();
  for (const part of parts) res.write(part);
  res.end();
}
