/** A value loaded at most once per `ttlMs`; concurrent callers share one load, and failures are not kept. */
export function cachedFor<T>(ttlMs: number, load: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  const cached = cachedPerKey<T>(ttlMs, 1, now);
  return () => cached('', load);
}

/**
 * As `cachedFor`, one value per key, for at most `maxKeys` keys: keys may come from anyone (a
 * client id in a query string), so the oldest is dropped first rather than letting the map grow.
 * `load` is called only when the key's value is missing or expired.
 */
export function cachedPerKey<T>(ttlMs: number, maxKeys: number, now: () => number = Date.now): (key: string, load: () => Promise<T>) => Promise<T> {
  const entries = new Map<string, { value: Promise<T>; expiresAt: number }>();
  return (key, load) => {
    const kept = entries.get(key);
    if (kept && kept.expiresAt > now()) return kept.value;
    entries.delete(key);
    // Maps iterate in insertion order: the first key is the oldest.
    if (entries.size >= maxKeys) entries.delete(entries.keys().next().value!);
    const value = load();
    const loaded = { value, expiresAt: now() + ttlMs };
    entries.set(key, loaded);
    value.catch(() => {
      if (entries.get(key) === loaded) entries.delete(key);
    });
    return value;
  };
}
