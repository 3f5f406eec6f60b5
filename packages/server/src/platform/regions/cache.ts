/** A value loaded at most once per `ttlMs`; concurrent callers share one load, and failures are not kept. */
export function cachedFor<T>(ttlMs: number, load: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let entry: { value: Promise<T>; expiresAt: number } | undefined;
  return () => {
    if (!entry || entry.expiresAt <= now()) {
      const value = load();
      const loaded = { value, expiresAt: now() + ttlMs };
      entry = loaded;
      value.catch(() => {
        if (entry === loaded) entry = undefined;
      });
    }
    return entry.value;
  };
}
