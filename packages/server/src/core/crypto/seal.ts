/**
 * Seals a value so that only the holder of a secret can open it: AES-256-GCM under a key derived
 * (HKDF-SHA-256) from the secret. Refresh successors are sealed under the presented token (the
 * database keeps only its hash); signing keys under TESSERA_SECRET_KEY. Either way a stolen
 * database cannot open what is sealed here.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { secureRandomBytes } from './random.js';

const HKDF_SALT = 'tessera';

/**
 * HKDF-SHA-256 (RFC 5869) for a 32-byte key, which is one block: extract, then one expand step.
 * Written out with HMAC because node's hkdfSync costs three times as much for this size.
 */
function keyFor(secret: string, purpose: string): Buffer {
  const pseudorandomKey = createHmac('sha256', HKDF_SALT).update(secret).digest();
  return createHmac('sha256', pseudorandomKey).update(purpose).update(Uint8Array.of(1)).digest();
}

export function seal(secret: string, purpose: string, plaintext: string): string {
  const iv = secureRandomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret, purpose), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url')).join('.');
}

export function unseal(secret: string, purpose: string, sealed: string): string {
  const [iv, tag, body] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !tag || !body) throw new Error('malformed sealed value');
  const decipher = createDecipheriv('aes-256-gcm', keyFor(secret, purpose), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}

/**
 * A keyed hash (HMAC-SHA-256 under a key derived for `purpose`), for short secrets such as user
 * codes: a plain hash of one of 20^8 codes would be reversed by trying them all.
 */
export function keyedHash(secret: string, purpose: string, value: string): string {
  return createHmac('sha256', keyFor(secret, purpose)).update(value).digest('hex');
}
