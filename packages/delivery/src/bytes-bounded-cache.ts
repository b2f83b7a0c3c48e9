/**
 * Values kept by key, bounded in bytes (as the caller counts them): the least recently used go
 * first, and a value over a quarter of the bound is not kept at all, so one huge value cannot
 * empty the cache of everything else. What the worker keeps per event (SchemeBodies,
 * ParsedEvents), which one subscriber's payloads could otherwise grow without bound.
 *
 * Each value has an owner (its event's subscriber), who may hold at most a quarter of the bound:
 * past it, keeping one more of its values drops its own least recently used first. Without that,
 * one subscriber rotating through a few more large events than the cache holds (eleven 1 MiB
 * payloads of emoji to an x-signature endpoint, retried 1 ms apart) dropped every other
 * subscriber's values, whose attempts then paid again what the cache saves them (an x-signature
 * body of 1 MiB: 33-53 ms of the worker's one event loop).
 */
export class BytesBoundedCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number; owner: string }>();
  /** Each owner's keys, least recently used first, and the bytes they hold. */
  private readonly owners = new Map<string, { keys: Set<string>; bytes: number }>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  /** The value, when kept; it becomes the most recently used (its owner's too). */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    const keys = this.owners.get(entry.owner)?.keys;
    keys?.delete(key);
    keys?.add(key);
    return entry.value;
  }

  /**
   * Keeps `value` for `owner` (unless the key is kept already, or it is over a quarter of the
   * bound), making room by the owner's least recently used while it would hold over a quarter,
   * then by everyone's.
   */
  keep(key: string, value: V, bytes: number, owner: string): void {
    const share = this.maxBytes / 4;
    if (bytes > share || this.entries.has(key)) return;
    const own = this.owners.get(owner);
    if (own)
      for (const oldKey of own.keys) {
        if (own.bytes + bytes <= share) break;
        this.drop(oldKey);
      }
    for (const oldKey of this.entries.keys()) {
      if (this.total + bytes <= this.maxBytes) break;
      this.drop(oldKey);
    }
    this.entries.set(key, { value, bytes, owner });
    this.total += bytes;
    const held = this.owners.get(owner) ?? { keys: new Set<string>(), bytes: 0 };
    held.keys.add(key);
    held.bytes += bytes;
    this.owners.set(owner, held);
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.bytes;
    const held = this.owners.get(entry.owner);
    if (!held) return;
    held.keys.delete(key);
    held.bytes -= entry.bytes;
    if (held.keys.size === 0) this.owners.delete(entry.owner);
  }

  /** Bytes kept now. */
  get size(): number {
    return this.total;
  }

  /** Bytes kept now for `owner`. */
  heldBy(owner: string): number {
    return this.owners.get(owner)?.bytes ?? 0;
  }
}
