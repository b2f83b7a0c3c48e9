import {
  builtInEventType,
  eventTypeCatalogJson,
  isCustomEventType,
  OPERATIONAL_EVENTS,
  type EventPayloadIssue,
  type EventTypeCatalogEntry,
  type EventTypeInfo,
} from '@hookrelay/contracts';
import type { EventTypeRecord, EventTypeState, EventTypeStore } from '@hookrelay/store';
import { CatalogListing } from './catalog-listing';
import { compileSchema, type CheckOptions, type CompiledSchema } from './schema-compiler';

/** A catalog entry as the API shows it; operator-defined types also carry their timestamps. */
export type EventTypeView = EventTypeCatalogEntry & { createdAt?: number; updatedAt?: number };

/** What a type name means to publishing, as of the process's current view of the catalog. */
export type ResolvedType =
  { kind: 'built-in'; info: EventTypeInfo } | { kind: 'custom' } | { kind: 'defined'; state: EventTypeState } | { kind: 'unknown' };

/** LiveCatalog.check's answer. */
export type CatalogVerdict =
  | { kind: 'built-in' | 'custom' | 'unknown' }
  | { kind: 'archived' }
  | { kind: 'defined'; issues: EventPayloadIssue[] | null; deprecatedAt: number | null };

export interface LiveCatalogOptions {
  store: EventTypeStore;
  /** Whether the Webex Connect and Zenduty types are listed and publishable (HOOKRELAY_BUILTIN_CATALOG). */
  builtIn: boolean;
  now: () => number;
  /**
   * How old this process's view of the catalog version may be when a publish relies on it. A
   * change made by another API process is enforced here at most this long (plus one Redis round
   * trip) later; a change made by this process at once.
   * @defaultValue 250
   */
  maxStalenessMs?: number;
}

const OPERATIONAL = new Set<string>(OPERATIONAL_EVENTS);

export function viewOfRecord(record: EventTypeRecord): EventTypeView {
  return {
    type: record.type,
    description: record.description,
    schema: record.schema,
    example: record.examples[0] ?? null,
    examples: record.examples,
    deprecated: record.deprecatedAt !== null,
    archived: record.archivedAt !== null,
    builtIn: false,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/**
 * The event catalog as every API process enforces it: the built-in types (unless switched off),
 * `custom.*`, and the operator-defined types in Redis. Publishing must not read the catalog each
 * time, so a process keeps the types' small states and re-reads them only when the catalog version
 * (one GET, at most every `maxStalenessMs`) has moved, as EndpointStore.listAll does with a
 * subscriber's endpoints. Validators are compiled once per type revision and kept.
 */
export class LiveCatalog {
  private version: string | null = null;
  private states = new Map<string, EventTypeState>();
  private checkedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;
  private readonly validators = new Map<string, { revision: number; compiled: Promise<CompiledSchema> }>();
  private listed: { version: string; listing: Promise<CatalogListing> } | undefined;
  private readonly maxStalenessMs: number;

  constructor(private readonly options: LiveCatalogOptions) {
    this.maxStalenessMs = options.maxStalenessMs ?? 250;
  }

  /** Makes the next call re-read the catalog version: this process has just changed it. */
  invalidate(): void {
    this.checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** Brings this process's view up to date when it may be older than allowed. One refresh at a time. */
  async fresh(): Promise<void> {
    if (this.options.now() - this.checkedAt < this.maxStalenessMs && this.version !== null) return;
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    await this.refreshing;
  }

  private async refresh(): Promise<void> {
    const started = this.options.now();
    // The version is read before the states: a change landing in between makes the copy look
    // older than it is (re-read next time), never newer.
    const version = await this.options.store.version();
    if (version !== this.version) {
      this.states = await this.options.store.states();
      this.version = version;
      for (const [type, entry] of this.validators) if (this.states.get(type)?.revision !== entry.revision) this.validators.delete(type);
    }
    this.checkedAt = started;
  }

  /** What `type` is, from the view `fresh()` brought up to date. */
  resolve(type: string): ResolvedType {
    const info = builtInEventType(type);
    if (info && (this.options.builtIn || OPERATIONAL.has(type))) return { kind: 'built-in', info };
    if (isCustomEventType(type)) return { kind: 'custom' };
    const state = this.states.get(type);
    return state ? { kind: 'defined', state } : { kind: 'unknown' };
  }

  /**
   * What publishing `payload` as `type` meets in the catalog, from the view `fresh()` brought up to
   * date: a type the operator defined holds it to its current schema (its issues, null when it
   * passes) unless archived; for the other kinds the caller applies its own rule. One answer for
   * every path that publishes (the publish routes, inbound sources).
   */
  async check(type: string, payload: unknown, options?: CheckOptions): Promise<CatalogVerdict> {
    const resolved = this.resolve(type);
    if (resolved.kind !== 'defined') return { kind: resolved.kind };
    if (resolved.state.archived) return { kind: 'archived' };
    const issues = await this.validate(type, resolved.state, payload, options);
    return { kind: 'defined', issues, deprecatedAt: resolved.state.deprecatedAt };
  }

  /** Bounded metric label: a catalog type's own name, `custom` for custom.*, else `unknown`. */
  labelOf(type: string): string {
    const resolved = this.resolve(type);
    return resolved.kind === 'custom' ? 'custom' : resolved.kind === 'unknown' ? 'unknown' : type;
  }

  /** A defined type's payload problems (null when it passes), with its validator compiled once per revision. */
  async validate(type: string, state: EventTypeState, payload: unknown, options?: CheckOptions): Promise<EventPayloadIssue[] | null> {
    let entry = this.validators.get(type);
    if (!entry || entry.revision < state.revision) {
      const compiled = this.compile(type);
      entry = { revision: state.revision, compiled };
      this.validators.set(type, entry);
      compiled.catch(() => this.validators.delete(type));
    }
    return (await entry.compiled).check(payload, options);
  }

  private async compile(type: string): Promise<CompiledSchema> {
    const record = await this.options.store.get(type);
    if (!record) throw new Error(`event type ${type} has a state but no record`);
    // Stored schemas passed the guard when they were saved: compiling cannot fail on them.
    return compileSchema(record.schema);
  }

  /** Keeps the validator a create or update just compiled, so this process need not compile it again. */
  remember(record: EventTypeRecord, compiled: CompiledSchema): void {
    this.validators.set(record.type, { revision: record.revision, compiled: Promise.resolve(compiled) });
  }

  /** Every listed type (built-ins per the switch, operator-defined ones), sorted by name, as `GET /v1/event-types` answers it. */
  async listing(): Promise<CatalogListing> {
    await this.fresh();
    const version = this.version as string;
    if (this.listed?.version !== version) {
      // One read of the records per version however many callers list at once.
      const built = this.options.store.list().then((records) => {
        const builtIns = eventTypeCatalogJson().filter((e) => this.options.builtIn || OPERATIONAL.has(e.type) || e.type === 'custom.*');
        const views = [...builtIns, ...records.map(viewOfRecord)].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
        return new CatalogListing(views);
      });
      this.listed = { version, listing: built };
      built.catch(() => {
        if (this.listed?.listing === built) this.listed = undefined;
      });
    }
    return this.listed.listing;
  }

  /** One type by name, archived ones included; null when there is none (or it is a switched-off built-in). */
  async get(type: string): Promise<EventTypeView | null> {
    const info = builtInEventType(type);
    if (info || type === 'custom.*') {
      if (info && !this.options.builtIn && !OPERATIONAL.has(type)) return null;
      return eventTypeCatalogJson().find((e) => e.type === type) ?? null;
    }
    const record = await this.options.store.get(type);
    return record ? viewOfRecord(record) : null;
  }
}
