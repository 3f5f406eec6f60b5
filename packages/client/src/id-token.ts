/**
 * ID token verification (OpenID Connect Core §3.1.3.7) on WebCrypto alone: the JWS signature with
 * the issuer's published keys (RS256 or ES256, the algorithms Tessera signs with), then the claims.
 */
import { base64url, fromBase64url } from './base64url.js';
import { errorFromResponse, InvalidResponseError } from './errors.js';
import { readObject } from './http.js';
import { sha256 } from './pkce.js';
import type { IdTokenClaims } from './token-store.js';

/** Clocks differ: an ID token is still accepted this long after its `exp`. */
export const CLOCK_SKEW_SECONDS = 60;

/** What the token must match: a fresh sign-in's nonce, or the claims of the sign-in a refresh continues. */
export interface IdTokenExpectations {
  accessToken: string;
  nonce?: string | undefined;
  previous?: IdTokenClaims | undefined;
}

interface Algorithm {
  kty: string;
  crv?: string;
  importParams: RsaHashedImportParams | EcKeyImportParams;
  verifyParams: AlgorithmIdentifier | EcdsaParams;
}

/** RFC 7518 §3.3 and §3.4. An ES256 JWS signature is r || s, the format WebCrypto's ECDSA uses too. */
const ALGORITHMS: Record<string, Algorithm> = {
  RS256: { kty: 'RSA', importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verifyParams: 'RSASSA-PKCS1-v1_5' },
  ES256: { kty: 'EC', crv: 'P-256', importParams: { name: 'ECDSA', namedCurve: 'P-256' }, verifyParams: { name: 'ECDSA', hash: 'SHA-256' } },
};

const invalid = (description: string) => new InvalidResponseError('invalid_id_token', description);

function decodeJson(segment: string): Record<string, unknown> | undefined {
  const bytes = fromBase64url(segment);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A key of the right type for the algorithm, reduced to its public members so WebCrypto sees nothing else. */
function publicKeyFor(jwk: JsonWebKey & { kid?: string; use?: string }, alg: string, algorithm: Algorithm): JsonWebKey | undefined {
  if (jwk.kty !== algorithm.kty || (jwk.alg !== undefined && jwk.alg !== alg) || (jwk.use !== undefined && jwk.use !== 'sig')) return undefined;
  if (algorithm.kty === 'RSA') return { kty: 'RSA', n: jwk.n, e: jwk.e };
  return jwk.crv === algorithm.crv ? { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y } : undefined;
}

/** Verifies the ID tokens of one client. Keys are read once and read again when a token names an unknown `kid`. */
export class IdTokenVerifier {
  private keys: Promise<Array<JsonWebKey & { kid?: string }>> | undefined;

  constructor(
    private readonly issuer: string,
    private readonly jwksUri: string | undefined,
    private readonly algorithms: string[],
    private readonly clientId: string,
    private readonly http: typeof fetch,
    private readonly now: () => number,
  ) {}

  async verify(idToken: string, expected: IdTokenExpectations): Promise<IdTokenClaims> {
    const parts = idToken.split('.');
    const header = parts.length === 3 ? decodeJson(parts[0]!) : undefined;
    const claims = header && decodeJson(parts[1]!);
    const signature = claims && fromBase64url(parts[2]!);
    if (!header || !claims || !signature) throw invalid('the ID token is not a signed JWT');
    const alg = typeof header.alg === 'string' ? header.alg : '';
    const algorithm = ALGORITHMS[alg];
    if (!algorithm || !this.algorithms.includes(alg)) throw invalid(`the ID token is signed with ${alg || 'no algorithm'}, which this issuer does not use`);
    // RFC 7515 §4.1.11: an extension we do not understand must not be ignored.
    if (header.crit !== undefined) throw invalid('the ID token names critical header extensions');

    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    const key = await this.key(alg, algorithm, kid);
    const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
    if (!(await crypto.subtle.verify(algorithm.verifyParams, key, signature, signed))) throw invalid('the ID token signature does not verify');

    this.checkClaims(claims, expected);
    if (typeof claims.at_hash === 'string') {
      // §3.1.3.8: the left half of the access token's SHA-256 (both algorithms hash with SHA-256).
      const hash = base64url((await sha256(expected.accessToken)).subarray(0, 16));
      if (claims.at_hash !== hash) throw invalid('the ID token was issued with another access token (at_hash)');
    }
    return claims as IdTokenClaims;
  }

  private checkClaims(claims: Record<string, unknown>, expected: IdTokenExpectations): void {
    const { iss, sub, aud, azp, exp, iat, nonce, auth_time } = claims;
    if (iss !== this.issuer) throw invalid(`the ID token was issued by ${String(iss)}, not ${this.issuer}`);
    if (typeof sub !== 'string' || !sub) throw invalid('the ID token has no subject');
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.includes(this.clientId)) throw invalid('the ID token was issued to another client');
    // §3.1.3.7 (3, 4): with other audiences beside us, azp must name us.
    if ((audiences.length > 1 || azp !== undefined) && azp !== this.clientId) throw invalid('the ID token was issued to another authorized party');
    if (typeof exp !== 'number' || typeof iat !== 'number') throw invalid('the ID token lacks exp or iat');
    // A future iat is not refused: a device whose clock is behind would fail every sign-in, and the
    // nonce already rules out replay (§3.1.3.7 leaves the iat window to the client).
    if (exp <= this.now() / 1000 - CLOCK_SKEW_SECONDS) throw invalid('the ID token has expired');
    if (expected.nonce !== undefined && nonce !== expected.nonce) throw invalid('the ID token nonce is not the one this sign-in sent');
    const { previous } = expected;
    // §12.2: a refreshed ID token speaks of the same user and the same authentication.
    if (previous && sub !== previous.sub) throw invalid('the refreshed ID token names another user');
    if (previous?.auth_time !== undefined && auth_time !== undefined && auth_time !== previous.auth_time) {
      throw invalid('the refreshed ID token names another authentication');
    }
  }

  private async key(alg: string, algorithm: Algorithm, kid: string | undefined): Promise<CryptoKey> {
    const find = (keys: Array<JsonWebKey & { kid?: string }>) => {
      const candidates = keys.flatMap((jwk) => (kid === undefined || jwk.kid === kid ? (publicKeyFor(jwk, alg, algorithm) ?? []) : []));
      // Without a kid, only a single key of the right type is unambiguous.
      return kid !== undefined || candidates.length === 1 ? candidates[0] : undefined;
    };
    let jwk = find(await this.loadKeys(false));
    // A key rotated in since the keys were read: read them once more.
    jwk ??= find(await this.loadKeys(true));
    if (!jwk) throw invalid(`the issuer publishes no ${alg} key${kid ? ` with kid ${kid}` : ''}`);
    try {
      return await crypto.subtle.importKey('jwk', jwk, algorithm.importParams, false, ['verify']);
    } catch {
      throw invalid('the issuer publishes a key that cannot be read');
    }
  }

  /** Single flight: callers that need the keys at once share one request; a failed read is not kept. */
  private loadKeys(again: boolean): Promise<Array<JsonWebKey & { kid?: string }>> {
    if (!this.jwksUri) return Promise.reject(invalid('discovery names no jwks_uri to verify the ID token with'));
    if (again || !this.keys) {
      const uri = this.jwksUri;
      const loading = (async () => {
        const response = await this.http(uri, { headers: { accept: 'application/jwk-set+json, application/json' } });
        if (!response.ok) throw await errorFromResponse(response);
        const { keys } = await readObject(response);
        if (!Array.isArray(keys)) throw new InvalidResponseError('invalid_response', 'the issuer\'s JWKS has no keys array');
        return keys.filter((key): key is JsonWebKey => typeof key === 'object' && key !== null);
      })();
      this.keys = loading;
      loading.catch(() => {
        if (this.keys === loading) this.keys = undefined;
      });
    }
    return this.keys;
  }
}
