/**
 * JWT access tokens (RFC 9068) for resources registered with `--token-format jwt`: a resource
 * server checks them offline with the keys of the JWKS (the ID token keys, rotated the same way).
 * Tessera still keeps a row per token (its id is the `jti`, with the token's hash), so that
 * introspection, revocation, secret scanning and the in-process platform API treat a JWT exactly
 * like an opaque token: found by `jti`, proved by its hash, alive while its family is.
 */
import { SignJWT, decodeJwt } from 'jose';
import type { Repositories } from '../../store/index.js';
import type { TokenFamily } from '../../store/schema.js';
import type { Context } from '../context.js';
import { narrowingOf } from '../oauth/narrowing.js';

/** The algorithm of every JWT access token; RS256 is the one every JOSE library verifies (RFC 9068 §2.1). */
const JWT_ACCESS_TOKEN_ALG = 'RS256';
const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Longer than any JWT access token Tessera signs: anything bigger is not decoded. */
const MAX_JWT_LENGTH = 8192;

export interface JwtAccessTokenInput {
  family: TokenFamily;
  /** The token's row id, its `jti`. */
  jti: string;
  scope: string;
  /** Epoch seconds. */
  issuedAt: number;
  expiresAt: number;
}

/** RFC 9068 §2.2 claims, with the narrowing of the grant the same names introspection uses. */
export async function signJwtAccessToken(ctx: Context, tx: Repositories, input: JwtAccessTokenInput): Promise<string> {
  const { family } = input;
  const narrowing = narrowingOf(family);
  const signing = await ctx.signingKeys.signingKey(JWT_ACCESS_TOKEN_ALG, tx);
  return new SignJWT({
    client_id: family.client_id,
    scope: input.scope,
    auth_time: Math.floor(family.auth_time / 1000),
    access_level: narrowing.accessLevel,
    scoped_organizations: narrowing.organizationIds,
    scoped_projects: narrowing.projectIds,
  })
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'at+jwt' })
    .setIssuer(ctx.config.issuer)
    .setSubject(family.user_id)
    .setAudience(family.resource!)
    .setJti(input.jti)
    .setIssuedAt(input.issuedAt)
    .setExpirationTime(input.expiresAt)
    .sign(signing.key);
}

/**
 * The row id (`jti`) a string names if it has the shape of a JWT access token; nothing is trusted
 * yet: the caller proves the token by comparing its hash with the row's.
 */
export function jwtAccessTokenId(token: unknown): string | undefined {
  if (typeof token !== 'string' || token.length > MAX_JWT_LENGTH || !JWS_SHAPE.test(token)) return undefined;
  try {
    const { jti } = decodeJwt(token);
    return typeof jti === 'string' && jti.length > 0 && jti.length <= 64 ? jti : undefined;
  } catch {
    return undefined;
  }
}
