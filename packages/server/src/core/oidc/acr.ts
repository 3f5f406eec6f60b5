/**
 * Authentication context classes: how strongly the user proved who they are (OIDC Core §2 `acr`,
 * requested with `acr_values` §3.1.2.1 or the `claims` parameter §5.5.1.1). Tessera's vocabulary,
 * weakest first, advertised as `acr_values_supported`:
 *
 * - `urn:tessera:acr:password`   a password alone (amr `pwd`)
 * - `urn:tessera:acr:two-factor` a password and a one-time code: TOTP or a recovery code (amr `pwd otp`)
 *
 * A request is met by a sign-in at least as strong as the weakest class it names that Tessera
 * knows; the ID token's `acr` always says what the sign-in actually was.
 */
import { OAuthError } from '../oauth/errors.js';

/** How a user proved who they are (RFC 8176 §2): a password, and a one-time password (TOTP or a recovery code). */
export type AuthenticationMethod = 'pwd' | 'otp';

/** Stored `amr` text (sessions, codes, token families) as a list; rows from before it was recorded were password sign-ins. */
export function parseAmr(stored: string | null): AuthenticationMethod[] {
  return stored ? (stored.split(' ').filter((method) => method === 'pwd' || method === 'otp') as AuthenticationMethod[]) : ['pwd'];
}

export const ACR_PASSWORD = 'urn:tessera:acr:password';
export const ACR_TWO_FACTOR = 'urn:tessera:acr:two-factor';
export const ACR_VALUES_SUPPORTED = [ACR_PASSWORD, ACR_TWO_FACTOR];

export interface AcrRequest {
  /** The classes asked for, in order of preference. */
  values: string[];
  /** Asked as an essential claim: a sign-in that cannot meet it is a failed authentication (Core §5.5.1.1). */
  essential: boolean;
}

/** The class a sign-in with these methods belongs to. */
export function acrOf(amr: readonly AuthenticationMethod[]): string {
  return amr.includes('otp') ? ACR_TWO_FACTOR : ACR_PASSWORD;
}

/** True when a sign-in with these methods meets the request. */
export function acrSatisfied(request: AcrRequest, amr: readonly AuthenticationMethod[]): boolean {
  // Asked for the claim without naming a class: whatever the sign-in was, it is reported.
  if (request.values.length === 0) return true;
  const known = request.values.map((value) => ACR_VALUES_SUPPORTED.indexOf(value)).filter((rank) => rank >= 0);
  if (known.length === 0) return !request.essential;
  return ACR_VALUES_SUPPORTED.indexOf(acrOf(amr)) >= Math.min(...known);
}

function stringList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  throw new OAuthError('invalid_request', 'claims: acr value(s) must be strings');
}

/** Reads `acr_values` and the `claims` parameter's `id_token.acr`; undefined when neither asks for an acr. */
export function parseAcrRequest(acrValues: string | undefined, claims: string | undefined): AcrRequest | undefined {
  let fromClaims: AcrRequest | undefined;
  if (claims !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(claims);
    } catch {
      throw new OAuthError('invalid_request', 'claims must be a JSON object');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new OAuthError('invalid_request', 'claims must be a JSON object');
    const acr = (parsed as { id_token?: { acr?: unknown } }).id_token?.acr;
    // Core §5.5: null asks for the claim in its default manner; other claims are voluntary and ignored.
    if (acr === null) fromClaims = { values: [], essential: false };
    else if (acr !== undefined) {
      if (typeof acr !== 'object' || Array.isArray(acr)) throw new OAuthError('invalid_request', 'claims: id_token.acr must be null or an object');
      const { essential, value, values } = acr as { essential?: unknown; value?: unknown; values?: unknown };
      fromClaims = { values: stringList(values) ?? stringList(value) ?? [], essential: essential === true };
    }
  }
  const requested = acrValues?.split(' ').filter(Boolean);
  if (!fromClaims && !requested) return undefined;
  return { values: fromClaims?.values.length ? fromClaims.values : (requested ?? []), essential: fromClaims?.essential ?? false };
}
