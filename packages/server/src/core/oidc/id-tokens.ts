/** ID tokens (OpenID Connect Core §2, §3.1.3.6) for the code flow and refreshes. */
import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Config } from '../../config.js';
import type { IdTokenIssuer } from '../context.js';
import { parseScope } from '../oauth/scopes.js';
import { parseAmr } from './acr.js';
import { userClaims } from './claims.js';
import type { KeyRing } from './signing-keys.js';

/** at_hash: the left half of the access token's SHA-256, base64url (both RS256 and ES256 use SHA-256). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}

export function createIdTokenIssuer(config: Config, keys: KeyRing, now: () => number): IdTokenIssuer {
  return {
    async issue(tx, { family, client, accessToken, nonce }) {
      const scopes = parseScope(family.scope);
      if (!scopes.includes('openid')) return undefined;
      const user = await tx.accounts.findUser(family.user_id);
      if (!user) throw new Error(`token family ${family.id} has no user`);
      const signing = await keys.signingKey(client.idTokenSignedResponseAlg, tx);
      const iat = Math.floor(now() / 1000);
      return new SignJWT({
        ...userClaims(user, scopes),
        auth_time: Math.floor(family.auth_time / 1000),
        // RFC 8176 methods of the sign-in behind the family; acr only when the request asked for it.
        amr: parseAmr(family.amr),
        ...(family.acr ? { acr: family.acr } : {}),
        at_hash: accessTokenHash(accessToken),
        ...(nonce ? { nonce } : {}),
      })
        .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'JWT' })
        .setIssuer(config.issuer)
        .setAudience(client.id)
        .setIssuedAt(iat)
        .setExpirationTime(iat + config.ttl.idToken)
        .sign(signing.key);
    },
  };
}
