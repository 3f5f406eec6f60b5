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
