/**
 * Checking a JWT access token (RFC 9068) without asking anyone: the signature with the issuer's
 * published keys (fetched once, fetched again for an unknown `kid`), `typ` `at+jwt`, issuer,
 * audience (this resource) and expiry.
 */
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { unavailable } from './http.js';
import { principalFromClaims, type Principal } from './principal.js';

/** The algorithms Tessera signs with; never `none`, never a shared-secret one. */
const ALGORITHMS = ['RS256', 'ES256'];
/** Clocks of different machines differ by this much at most. */
const CLOCK_TOLERANCE_SECONDS = 5;

/** Three base64url segments: a JWS in compact form. Tessera's opaque tokens have no dots. */
export function isJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

function refusal(error: unknown): string | undefined {
  if (error instanceof errors.JWTExpired) return 'the access token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'typ') return 'the token is not an access token (typ must be at+jwt)';
    if (error.claim === 'aud') return 'the access token was issued for another resource';
    if (error.claim === 'iss') return 'the access token was issued by another authorization server';
    return `the access token's ${error.claim} claim is missing or invalid`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the access token signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'the access token is signed with a key the authorization server does not publish';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'the access token is signed with an algorithm this resource server does not accept';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JWKSMultipleMatchingKeys) return 'the access token is malformed';
  return undefined;
}

/** The principal a JWT access token stands for, or why it is not valid here; BearerError 503 when the keys cannot be read. */
export async function principalFromJwt(token: string, keys: JWTVerifyGetKey, expected: { issuer: string; resource: string }): Promise<Principal | string> {
  try {
    const { payload } = await jwtVerify(token, keys, {
      issuer: expected.issuer,
      audience: expected.resource,
      typ: 'at+jwt', // jose also accepts application/at+jwt (RFC 9068 §4)
      algorithms: ALGORITHMS,
      requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'], // RFC 9068 §2.2
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    return principalFromClaims(payload);
  } catch (error) {
    const reason = refusal(error);
    if (reason !== undefined) return reason;
    // The JWKS could not be fetched (no connection, a timeout, not a 200): nothing is known about the token.
    throw unavailable(`the authorization server's keys cannot be read (${error instanceof Error ? error.message : 'unknown error'})`);
  }
}
