/**
 * Values kept by key, bounded in bytes (as the caller counts them): the least recently used go
 * first, and a value over a quarter of the bound is not kept at all, so one huge value cannot
 * empty the cache of everything else. What the worker keeps per event (SchemeBodies,
 * ParsedEvents), which one subscriber's payloads could otherwise grow without bound.
 *
 * Each value has an owner (its event's subscriber). While there is room anyone may hold any part of
 * it; when room must be made, an owner holding more than a quarter of the bound gives up its least
 * recently used first (the one holding most), and only when none does the least recently used of
 * all go. Without that, one subscriber rotating through a few more large events than the cache
 * holds (eleven 1 MiB payloads of emoji to an x-signature endpoint, retried 1 ms apart) dropped
 * every other subscriber's values, whose attempts then paid again what the cache saves them (an
 * x-signature body of 1 MiB: 33-53 ms of the worker's one event loop). A hard quarter each would
 * have made a lone subscriber's own fan-out of three such events miss on every attempt.
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
   * bound), making room, when it must, from the owner holding most while that is over a quarter,
   * else from the least recently used of all.
   */
  keep(key: string, value: V, bytes: number, owner: string): void {
    const share = this.maxBytes / 4;
    if (bytes > share || this.entries.has(key)) return;
    while (this.total + bytes > this.maxBytes) {
      const oldKey = this.oldestOfTheLargestOwnerOver(share) ?? this.entries.keys().next().value;
      if (oldKey === undefined) break;
      this.drop(oldKey);
    }
    this.entries.set(key, { value, bytes, owner });
    this.total += bytes;
    const held = this.owners.get(owner) ?? { keys: new Set<string>(), bytes: 0 };
    held.keys.add(key);
    held.bytes += bytes;
    this.owners.set(owner, held);
  }

  /** The least recently used key of the owner holding most, when that is over `share`. */
  private oldestOfTheLargestOwnerOver(share: number): string | undefined {
    let largest: { keys: Set<string>; bytes: number } | undefined;
    for (const held of this.owners.values()) if (held.bytes > share && (!largest || held.bytes > largest.bytes)) largest = held;
    return largest?.keys.values().next().value;
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
