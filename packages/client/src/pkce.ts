/** PKCE (RFC 7636, S256 only) and random values, on WebCrypto so it runs in Node 20 and browsers. */
import { base64url } from './base64url.js';

/** 32 random bytes, base64url: 256 bits for a code verifier, a state or a nonce. */
export function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

export async function codeChallenge(verifier: string): Promise<string> {
  return base64url(await sha256(verifier));
}
