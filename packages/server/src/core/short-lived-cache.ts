/**
 * An in-process map whose entries expire a fixed time after they are set, bounded in size (when
 * full, the oldest entry goes first). For answers that may be a little old: validated credentials
 * and registered clients (a second, so a change in the database reaches every instance within it
 * without any message passing), and the grants whose use was just written (a minute).
 */
export class ShortLivedCache<V> {
  private readonly entries = new Map<string, { value: V; setAt: number; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` from `now` for the cache's time, or until `expiresAt` when that comes first. */
  set(key: string, value: V, now: number, expiresAt = Infinity): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    // Maps iterate in insertion order: drop the oldest entry.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, setAt: now, until: Math.min(now + this.ttlMs, expiresAt) });
  }

  /**
   * Whether a live entry has used up `fraction` of the cache's time: a caller that keeps using it
   * may fetch it again in the background, so entries in steady use never all expire at once.
   */
  ageing(key: string, now: number, fraction: number): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.until > now && now - entry.setAt >= this.ttlMs * fraction;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * Database reads kept for a moment (registered clients, resources): a change made on this instance
 * is seen at once (`forget`), one made elsewhere within the cache's time. A read that started
 * before a `forget` is not kept after it, so it cannot bring the old answer back.
 */
export class RecentReads<V> {
  // Wrapped, so that an answer of undefined ("no such thing") can be kept too.
  private readonly kept: ShortLivedCache<{ value: V }>;
  /** Bumped by every forget. */
  private changes = 0;

  constructor(ttlMs: number) {
    this.kept = new ShortLivedCache(ttlMs);
  }

  /** The kept answer for `key`, or `load`'s, kept when `keep` says so. */
  async read(key: string, now: number, load: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    const kept = this.kept.get(key, now);
    if (kept) return kept.value;
    const changesBefore = this.changes;
    const value = await load();
    if (keep(value) && this.changes === changesBefore) this.kept.set(key, { value }, now);
    return value;
  }

  forget(key: string): void {
    this.changes++;
    this.kept.delete(key);
  }
}
