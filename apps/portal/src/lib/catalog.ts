import type { EventTypeInfo } from './api-types';

/** `order.paid` -> `order`: the portal groups the catalog by its first segment. */
export function namespaceOf(type: string): string {
  return type.split('.')[0] ?? type;
}

/** Current types grouped by namespace, both sorted by name; archived types left out. */
export function byNamespace(catalog: readonly EventTypeInfo[]): Array<[string, EventTypeInfo[]]> {
  const groups = new Map<string, EventTypeInfo[]>();
  for (const t of [...catalog].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))) {
    if (t.archived) continue;
    const key = namespaceOf(t.type);
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Types a test send may use: not the `custom.*` description, not what only Hookrelay sends. */
export function isSendable(t: EventTypeInfo): boolean {
  return !t.archived && !t.type.includes('*') && t.type !== 'endpoint.disabled' && t.type !== 'hookrelay.test';
}

/** Pretty JSON for the page; a value that is not there shows as nothing. */
export function prettyJson(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}
