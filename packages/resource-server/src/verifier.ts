/**
 * The verifier a resource server creates once: it discovers the authorization server, then checks
 * each bearer token by introspection (opaque tokens) or by signature (JWT access tokens), and
 * answers every refusal as an RFC 6750 error whose challenge points to the resource's metadata
 * (RFC 9728 §5.1).
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { scopeSatisfies } from './access.js';
import { AnswerCache, tokenKey } from './cache.js';
import { BearerError } from './errors.js';
import { misconfigured, requestJson, wellKnownUrl } from './http.js';
import { introspect, principalFromIntrospection, type IntrospectionCredentials } from './introspection.js';
import { isJwt, principalFromJwt } from './jwt.js';
import type { Principal } from './principal.js';

export interface VerifierOptions {
  /** The issuer identifier, exactly as the authorization server's discovery document states it. */
  issuer: string;
  /** This API's resource identifier (RFC 8707), e.g. `https://mcp.example.com/mcp`: the audience tokens must name. */
  resource: string;
  /** This resource server's credentials at the introspection endpoint; without them only JWT access tokens are accepted. */
  introspection?: IntrospectionCredentials;
  /**
   * How long an introspection answer, or a JWT's successful check, is reused, in milliseconds
   * (default 1000): a revoked token keeps working here for at most this long. Never past the
   * token's own expiry.
   */
  cacheMs?: number;
  /** Where this resource's RFC 9728 metadata is served; defaults to the well-known URL derived from `resource`. */
  resourceMetadataUrl?: string;
  /** Time limit for each request to the authorization server, in milliseconds (default 5000). */
  timeoutMs?: number;
  /** The least time between two JWKS fetches caused by unknown `kid`s, in milliseconds (default 30000). */
  jwksCooldownMs?: number;
}

/** RFC 9728 §2. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported?: string[];
  resource_name?: string;
  [field: string]: unknown;
}

export interface Verifier {
  readonly issuer: string;
  readonly resource: string;
  readonly resourceMetadataUrl: string;
  /** Checks the request's `Authorization` header value; throws BearerError. */
  verify(authorization: string | null | undefined): Promise<Principal>;
  /** Checks a bearer token taken from elsewhere; throws BearerError. */
  verifyToken(token: string): Promise<Principal>;
  /** Throws BearerError `insufficient_scope` (403) unless the principal holds every scope (`:write` covers `:read`). */
  requireScopes(principal: Principal, scopes: string | readonly string[]): void;
  /** This resource's metadata document (RFC 9728), with any extra fields given. */
  protectedResourceMetadata(extra?: Partial<ProtectedResourceMetadata>): ProtectedResourceMetadata;
}

const DEFAULT_CACHE_MS = 1000;
const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** The part of `cacheMs` after which an introspection answer still in use is renewed. */
const RENEW_AFTER = 0.75;

interface IssuerMetadata {
  introspectionEndpoint: string | undefined;
  keys: JWTVerifyGetKey | undefined;
}

/** RFC 6750 §3: quoted-string values; the few characters that would break one are left out. */
const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

export function createVerifier(options: VerifierOptions): Verifier {
  const { issuer, resource, introspection } = options;
  const cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const resourceMetadataUrl = options.resourceMetadataUrl ?? wellKnownUrl(resource, 'oauth-protected-resource');
  const answers = new AnswerCache<Principal | string>();
  /** Checks under way, shared by concurrent requests bearing the same token. */
  const inFlight = new Map<string, Promise<Principal | string>>();
  let metadata: Promise<IssuerMetadata> | undefined;

  function challenge(status: 400 | 401 | 403, code: 'invalid_request' | 'invalid_token' | 'insufficient_scope', description: string | undefined, scope?: string): BearerError {
    const params = [`resource_metadata=${quoted(resourceMetadataUrl)}`];
    if (description !== undefined) params.push(`error=${quoted(code)}`, `error_description=${quoted(description)}`);
    if (scope) params.push(`scope=${quoted(scope)}`);
    const headers = { 'www-authenticate': `Bearer ${params.join(', ')}`, 'cache-control': 'no-store' };
    return new BearerError(status, code, description ?? 'an access token is required', headers, scope);
  }

  /** RFC 8414, read once; a failure is not kept, so the next request tries again. */
  function issuerMetadata(): Promise<IssuerMetadata> {
    metadata ??= (async () => {
      const document = await requestJson(wellKnownUrl(issuer, 'oauth-authorization-server'), { headers: { accept: 'application/json' } }, timeoutMs, 'discovery');
      // RFC 8414 §3.3: a document naming another issuer must not be used.
      if (document.issuer !== issuer) throw misconfigured(`discovery names the issuer ${String(document.issuer)}, not ${issuer}`);
      const jwksUri = typeof document.jwks_uri === 'string' ? document.jwks_uri : undefined;
      return {
        introspectionEndpoint: typeof document.introspection_endpoint === 'string' ? document.introspection_endpoint : undefined,
        keys: jwksUri ? createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: timeoutMs, cooldownDuration: options.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS }) : undefined,
      };
    })();
    metadata.catch(() => {
      metadata = undefined;
    });
    return metadata;
  }

  /** Checks a token not found among the answers kept; concurrent checks of one token share one. */
  function checkAfresh(token: string, key: string): Promise<Principal | string> {
    let pending = inFlight.get(key);
    if (!pending) {
      pending = (async () => {
        const { introspectionEndpoint, keys } = await issuerMetadata();
        if (isJwt(token)) {
          if (!keys) throw misconfigured('the authorization server publishes no jwks_uri to verify JWT access tokens with');
          // A signature check costs more than the whole of a small API request: a token seen within
          // cacheMs has passed the very same checks, and its expiry is checked on every use. A
          // refusal is not kept: one for an unknown key may pass once the keys are fetched again.
          const outcome = await principalFromJwt(token, keys, { issuer, resource });
          if (typeof outcome !== 'string') keep(key, outcome, false);
          return outcome;
        }
        if (!introspection) return 'this resource server accepts only JWT access tokens';
        if (!introspectionEndpoint) throw misconfigured('the authorization server offers no introspection endpoint');
        const answer = await introspect(introspectionEndpoint, introspection, token, timeoutMs);
        const outcome = principalFromIntrospection(answer, { issuer, resource, now: Date.now() });
        // An inactive answer is kept as long as an active one: a token never becomes active again,
        // and a client retrying a dead token costs one introspection per cacheMs, not one per request.
        // An active one is renewed ahead of time while the token is in use (see verifyToken).
        keep(key, outcome, typeof outcome !== 'string');
        return outcome;
      })().finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  /** Keeps an outcome for `cacheMs`, never past the token's expiry; `renewable` from three quarters of that on. */
  function keep(key: string, outcome: Principal | string, renewable: boolean): void {
    const now = Date.now();
    const expiresAt = typeof outcome === 'string' ? Infinity : outcome.expiresAt;
    const renewFrom = renewable && now + cacheMs < expiresAt ? now + cacheMs * RENEW_AFTER : Infinity;
    answers.set(key, outcome, Math.min(now + cacheMs, expiresAt), now, renewFrom);
  }

  async function verifyToken(token: string): Promise<Principal> {
    // The answers kept are looked up first: for most requests this is all the work there is.
    const key = tokenKey(token);
    const now = Date.now();
    const kept = answers.get(key, now);
    // A token in steady use is introspected again shortly before its answer is due, in the
    // background: its requests never wait for Tessera, and no answer is used past cacheMs, so
    // revocation still reaches this server within it. A failed renewal leaves the answer to expire.
    if (kept && now >= kept.renewFrom && !inFlight.has(key)) checkAfresh(token, key).catch(() => undefined);
    const outcome = kept ? kept.value : await checkAfresh(token, key);
    if (typeof outcome === 'string') throw challenge(401, 'invalid_token', outcome);
    // A kept answer never outlives the token, but a principal is checked when it is used.
    if (outcome.expiresAt <= Date.now()) throw challenge(401, 'invalid_token', 'the access token has expired');
    return outcome;
  }

  return {
    issuer,
    resource,
    resourceMetadataUrl,

    async verify(authorization) {
      // RFC 6750 §3.1: a request without credentials gets the challenge alone, with no error code.
      if (authorization === undefined || authorization === null) throw challenge(401, 'invalid_token', undefined);
      const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
      if (!match) throw challenge(400, 'invalid_request', 'the Authorization header must be "Bearer <token>"');
      return verifyToken(match[1]!);
    },

    verifyToken,

    requireScopes(principal, scopes) {
      const needed: readonly string[] = typeof scopes === 'string' ? [scopes] : scopes;
      if (needed.every((scope) => scopeSatisfies(principal.scopes, scope))) return;
      const missing = needed.filter((scope) => !scopeSatisfies(principal.scopes, scope));
      // RFC 6750 §3: the challenge's scope names what the request needs, so a client can ask for it.
      throw challenge(403, 'insufficient_scope', `this request needs the ${missing.join(' ')} scope`, needed.join(' '));
    },

    protectedResourceMetadata(extra = {}) {
      return { resource, authorization_servers: [issuer], bearer_methods_supported: ['header'], ...extra };
    },
  };
}
