/**
 * Answers kept for a moment (introspections, checked JWTs), keyed by the token's SHA-256 (never the
 * token itself), and bounded in size so a flood of made-up tokens cannot grow it without end.
 */
import { hash } from 'node:crypto';

const MAX_ENTRIES = 10_000;

/** Runs on every request: the one-shot `hash` (Node 20.12) costs about half what a Hash object does. */
export function tokenKey(token: string): string {
  return hash('sha256', token, 'base64url');
}

export interface KeptAnswer<T> {
  value: T;
  /** Not used from this time on. */
  until: number;
  /** From this time on, while still used, the answer may be asked for again ahead of `until`. */
  renewFrom: number;
}

export class AnswerCache<T> {
  private readonly entries = new Map<string, KeptAnswer<T>>();

  get(key: string, now: number): KeptAnswer<T> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > now) return entry;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T, until: number, now: number, renewFrom = Infinity): void {
    if (until <= now) return;
    if (this.entries.size >= MAX_ENTRIES) {
      for (const [stale, entry] of this.entries) if (entry.until <= now) this.entries.delete(stale);
      // Still full: drop the oldest (a Map iterates in insertion order).
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.delete(key);
    this.entries.set(key, { value, until, renewFrom });
  }
}
