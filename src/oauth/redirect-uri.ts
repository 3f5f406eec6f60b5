/**
 * Redirect URI matching: exact string comparison, with one exception from RFC 8252 §7.3 — a
 * registered loopback URI matches the same URI on any port, since native apps get their port from
 * the operating system at run time.
 */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function isLoopbackRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  } catch {
    return false;
  }
}

function withoutPort(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    url.port = '';
    return url.href;
  } catch {
    return undefined;
  }
}

export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  if (!isLoopbackRedirect(registered) || !isLoopbackRedirect(requested)) return false;
  // Compare everything but the port; the parsed forms must also round-trip the requested string
  // exactly so that userinfo, odd encodings or a trailing "#" cannot slip through.
  const parsed = new URL(requested);
  if (parsed.href !== requested || parsed.username || parsed.password || parsed.hash) return false;
  return withoutPort(registered) === withoutPort(requested);
}

export function findRedirectUri(registered: readonly string[], requested: string): string | undefined {
  return registered.find((uri) => redirectUriMatches(uri, requested)) ? requested : undefined;
}

/** Adds parameters to a redirect URI's query, keeping the query it was registered with. */
export function appendParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url.href;
}
