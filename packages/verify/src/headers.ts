/**
 * Request headers as any server hands them over: Node's `req.headers` (lower-case names, values a
 * string or an array), a plain object with any capitalisation, or a Fetch API `Headers`.
 */
export type HeaderSource = { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>;

/** One header's value ('' when absent); of a repeated header, the first. */
export function readHeader(headers: HeaderSource, name: string): string {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? '';
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const lower = name.toLowerCase();
  let value = record[lower];
  if (value === undefined) {
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === lower) {
        value = record[key];
        break;
      }
    }
  }
  if (Array.isArray(value)) return (value[0] as string | undefined) ?? '';
  return typeof value === 'string' ? value : '';
}
