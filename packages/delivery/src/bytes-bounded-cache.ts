/**
 * Values kept by key, bounded in bytes (as the caller counts them): the least recently used go
 * first, and a value over a quarter of the bound is not kept at all, so one huge value cannot
 * empty the cache of everything else. What the worker keeps per event (SchemeBodies,
 * ParsedEvents), which one subscriber's payloads could otherwise grow without bound.
 */
export class BytesBoundedCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  /** The value, when kept; it becomes the most recently used. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` (unless the key is kept already, or it is over a quarter of the bound), making room by the least recently used. */
  keep(key: string, value: V, bytes: number): void {
    if (bytes > this.maxBytes / 4 || this.entries.has(key)) return;
    for (const [oldKey, old] of this.entries) {
      if (this.total + bytes <= this.maxBytes) break;
      this.entries.delete(oldKey);
      this.total -= old.bytes;
    }
    this.entries.set(key, { value, bytes });
    this.total += bytes;
  }

  /** Bytes kept now. */
  get size(): number {
    return this.total;
  }
}
