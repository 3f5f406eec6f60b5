/**
 * Introspection answers kept for a moment, keyed by the token's SHA-256 (never the token itself),
 * and bounded in size so a flood of made-up tokens cannot grow it without end.
 */
import { createHash } from 'node:crypto';

const MAX_ENTRIES = 10_000;

export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export class AnswerCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  get(key: string, now: number): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > now) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T, until: number, now: number): void {
    if (until <= now) return;
    if (this.entries.size >= MAX_ENTRIES) {
      for (const [stale, entry] of this.entries) if (entry.until <= now) this.entries.delete(stale);
      // Still full: drop the oldest (a Map iterates in insertion order).
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.delete(key);
    this.entries.set(key, { value, until });
  }
}
