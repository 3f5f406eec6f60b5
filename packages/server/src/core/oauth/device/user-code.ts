/**
 * User codes (RFC 8628 §6.1): what a person reads off one screen and types on another. Eight
 * characters from twenty consonants that no font confuses with each other or with a digit (no
 * vowels, so no words either), shown as `XXXX-XXXX`: 20^8 ≈ 2.56 × 10^10 codes, about 34.6 bits.
 * Entry ignores case, dashes and spaces. Stored only as a keyed hash.
 */
import { secureRandomBytes } from '../../crypto/random.js';
import { keyedHash } from '../../crypto/seal.js';

export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

/** A new user code, without its dash. Uniform: bytes of 240 and above are drawn again (240 = 12 × 20). */
export function generateUserCode(): string {
  let code = '';
  while (code.length < USER_CODE_LENGTH) {
    for (const byte of secureRandomBytes(USER_CODE_LENGTH)) {
      if (byte < 240 && code.length < USER_CODE_LENGTH) code += USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length];
    }
  }
  return code;
}

/** What the user typed, as a code without its dash; undefined when it cannot be a user code. */
export function normalizeUserCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== USER_CODE_LENGTH) return undefined;
  return [...code].every((character) => USER_CODE_ALPHABET.includes(character)) ? code : undefined;
}

/** `WDJBMJHT` → `WDJB-MJHT`. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** How a normalized user code is stored and looked up. */
export function hashUserCode(secretKey: string, code: string): string {
  return keyedHash(secretKey, 'device user code', code);
}
