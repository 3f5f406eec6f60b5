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

/** Schemes no redirect URI may use, whoever registers it: they run code or read files in the browser. */
export const FORBIDDEN_REDIRECT_SCHEMES: ReadonlySet<string> = new Set(['javascript:', 'data:', 'file:', 'vbscript:']);
/** RFC 8252 §7.1: a private-use scheme is a reverse domain name the app's author controls. */
const REVERSE_DOMAIN_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;

/**
 * Why a client may not register this redirect URI, or undefined when it may: https, http on a
 * loopback host (RFC 8252 §7.3), or a private-use scheme such as `com.example.app:/cb` (§7.1).
 * A fragment is never allowed (RFC 6749 §3.1.2).
 */
export function redirectUriRegistrationProblem(uri: string): string | undefined {
  if (!URL.canParse(uri)) return 'is not an absolute URI';
  const url = new URL(uri);
  // The parser would read `https:cb` as https://cb/; only the full form is unambiguous.
  if (/^https?:$/.test(url.protocol) && !/^https?:\/\/[^/]/i.test(uri)) return 'is not an absolute URI';
  if (uri.includes('#')) return 'must not contain a fragment';
  if (FORBIDDEN_REDIRECT_SCHEMES.has(url.protocol)) return `uses the forbidden scheme ${url.protocol}`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') return isLoopbackRedirect(uri) ? undefined : 'must use https unless it is on a loopback host (127.0.0.1, [::1], localhost)';
  if (REVERSE_DOMAIN_SCHEME.test(url.protocol)) return undefined;
  return `uses the scheme ${url.protocol}, which is neither https nor a reverse-domain private-use scheme`;
}
