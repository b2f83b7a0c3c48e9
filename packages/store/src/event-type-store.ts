import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { Keys } from './keys';

const SAVE_EVENT_TYPE = readFileSync(join(__dirname, 'save-event-type.lua'), 'utf8');

/** An operator-defined event type as stored. The API owns its rules (names, schema safety). */
export interface EventTypeRecord {
  type: string;
  description: string;
  /** JSON Schema (draft 2020-12) every payload of this type must pass. */
  schema: unknown;
  /** Payloads that pass `schema`; the first is what a test send carries. */
  examples: unknown[];
  /** Set while the type is deprecated: still accepted, answered with a `Deprecation` header. */
  deprecatedAt: number | null;
  /** Set while the type is archived: hidden from the catalog and refused on publish. */
  archivedAt: number | null;
  /** 1 when created, +1 with every change: names the schema version validators are compiled for. */
  revision: number;
  createdAt: number;
  updatedAt: number;
}

/** What publishing needs of a type without reading its record: kept in its own small hash. */
export interface EventTypeState {
  revision: number;
  archived: boolean;
  deprecatedAt: number | null;
}

export interface EventTypeLimits {
  /** Operator-defined types, archived ones included. */
  maxTypes: number;
  /** Every record's JSON together: bounds what listing the catalog and each API process's copy cost. */
  maxBytes: number;
}

export type SaveEventTypeResult =
  | { ok: true; version: string }
  | { ok: false; reason: 'exists' | 'missing' | 'too_many' | 'too_large' }
  | { ok: false; reason: 'conflict'; currentRevision: number };

export function eventTypeState(record: EventTypeRecord): EventTypeState {
  return { revision: record.revision, archived: record.archivedAt !== null, deprecatedAt: record.deprecatedAt };
}

/**
 * Operator-defined event types: records, their states and the catalog version, written together by
 * save-event-type.lua. Types are never deleted, only archived, so a name once used keeps its meaning
 * for the events already in the history.
 */
export class EventTypeStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly limits: EventTypeLimits,
  ) {
    if (!('hookrelaySaveEventType' in redis)) redis.defineCommand('hookrelaySaveEventType', { numberOfKeys: 4, lua: SAVE_EVENT_TYPE });
  }

  /** Stores a new type; `exists` when one with that name is stored already (archived or not). */
  create(record: EventTypeRecord): Promise<SaveEventTypeResult> {
    return this.save('create', record, 0);
  }

  /** Replaces a type, only if it is still at `expectedRevision` (the caller gives `record.revision` = that + 1). */
  update(record: EventTypeRecord, expectedRevision: number): Promise<SaveEventTypeResult> {
    return this.save('update', record, expectedRevision);
  }

  async get(type: string): Promise<EventTypeRecord | null> {
    const raw = await this.redis.hget(this.keys.eventTypes(), type);
    return raw ? (JSON.parse(raw) as EventTypeRecord) : null;
  }

  /** Every stored type, archived ones included, in no particular order. */
  async list(): Promise<EventTypeRecord[]> {
    return Object.values(await this.redis.hgetall(this.keys.eventTypes())).map((raw) => JSON.parse(raw) as EventTypeRecord);
  }

  /** Every stored type's state: a few dozen bytes each, read when the catalog version moves. */
  async states(): Promise<Map<string, EventTypeState>> {
    const raw = await this.redis.hgetall(this.keys.eventTypeStates());
    return new Map(Object.entries(raw).map(([type, json]) => [type, JSON.parse(json) as EventTypeState]));
  }

  /** The catalog version: moves with every create, change and archive, by any process. */
  async version(): Promise<string> {
    return (await this.redis.get(this.keys.eventTypesVersion())) ?? '0';
  }

  private async save(mode: 'create' | 'update', record: EventTypeRecord, expectedRevision: number): Promise<SaveEventTypeResult> {
    const keys = this.keys;
    const [status, value] = (await (this.redis as unknown as SaveCommand).hookrelaySaveEventType(
      keys.eventTypes(),
      keys.eventTypeStates(),
      keys.eventTypesVersion(),
      keys.eventTypesBytes(),
      record.type,
      mode,
      String(expectedRevision),
      JSON.stringify(record),
      JSON.stringify(eventTypeState(record)),
      String(this.limits.maxTypes),
      String(this.limits.maxBytes),
    )) as [string, string | number | undefined];
    if (status === 'ok') return { ok: true, version: String(value) };
    if (status === 'conflict') return { ok: false, reason: 'conflict', currentRevision: Number(value) };
    return { ok: false, reason: status as 'exists' | 'missing' | 'too_many' | 'too_large' };
  }
}

interface SaveCommand {
  hookrelaySaveEventType(...args: string[]): Promise<unknown>;
}
