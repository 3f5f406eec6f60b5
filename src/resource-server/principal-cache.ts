/**
 * A short-lived in-process cache of validated credentials, keyed by the credential's SHA-256.
 * Entries live at most `ttlMs` (1 s by default), so a revocation written to the database reaches
 * every instance within that time without any message passing.
 */
import type { Principal } from './principal.js';

export class PrincipalCache {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(hash: string, now: number): Principal | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.principal;
  }

  set(hash: string, principal: Principal, now: number): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(hash, { principal, until: Math.min(now + this.ttlMs, principal.expiresAt ?? Infinity) });
  }
}
