/**
 * Token formats. Every secret Tessera hands out is `<prefix><body><checksum>`:
 * 256 random bits as 43 base62 characters, then a 6-character base62 CRC-32 of what precedes it.
 * The checksum lets a mistyped or forged token be refused without a database read, and lets
 * secret scanners match only well-formed tokens. Only SHA-256 hashes are ever stored.
 *
 * Access and refresh tokens also carry a locator between prefix and body: their row's id, 22
 * base62 characters of issue time (48 bits of milliseconds) and 80 random bits. It is no secret;
 * the row is found by it and the token then checked against the stored hash. Because ids grow
 * with time, a new token is appended at the end of its table instead of landing at a random place
 * in an index of hashes, which on a busy server is most of what storing a token costs. Tokens
 * issued before locators existed (migration 010) still work: their row id is their hash.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { secureRandomBytes } from './random.js';

export const TOKEN_PREFIXES = {
  accessToken: 'pha_',
  refreshToken: 'phr_',
  personalApiKey: 'phx_',
  authorizationCode: 'phac_',
  deviceCode: 'phdc_',
  clientId: 'pca_',
  clientSecret: 'pcs_',
  session: 'phss_',
  emailVerification: 'phev_',
  signupConfirmation: 'phsu_',
  passwordReset: 'phpr_',
  pendingSignIn: 'phps_',
  resourceServerSecret: 'prss_',
} as const;

export type TokenKind = keyof typeof TOKEN_PREFIXES;

/** The kinds whose tokens carry a locator. */
const LOCATED: ReadonlySet<TokenKind> = new Set(['accessToken', 'refreshToken']);

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 43; // ceil(256 / log2(62))
const CHECKSUM_LENGTH = 6; // ceil(32 / log2(62))
const LOCATOR_LENGTH = 22; // ceil(128 / log2(62))
const LOCATOR_RANDOM_BYTES = 10;

/**
 * `bytes` as a big-endian number in base 62, left-padded with zeros to `length` digits. Long
 * division over 16-bit limbs in plain integer arithmetic (every intermediate stays below 2^31)
 * rather than BigInt, which allocates on every step.
 */
export function base62(bytes: Uint8Array, length: number): string {
  const limbs: number[] = [];
  for (let end = bytes.length; end > 0; end -= 2) limbs.unshift(end === 1 ? bytes[0]! : (bytes[end - 2]! << 8) | bytes[end - 1]!);
  let firstNonZero = 0;
  let out = '';
  for (let digit = 0; digit < length; digit++) {
    let remainder = 0;
    for (let i = firstNonZero; i < limbs.length; i++) {
      const current = remainder * 0x10000 + limbs[i]!;
      const quotient = (current / 62) | 0;
      limbs[i] = quotient;
      remainder = current - quotient * 62;
    }
    while (limbs[firstNonZero] === 0) firstNonZero++;
    out = ALPHABET[remainder] + out;
  }
  return out;
}

/** The checksum of a token's prefix and body. */
function checksum(prefixAndBody: string): string {
  const crc = crc32(prefixAndBody);
  return base62(Uint8Array.of(crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff), CHECKSUM_LENGTH);
}

/** A row id that sorts by issue time: 48 bits of milliseconds, then 80 random bits (also the `jti` of a JWT access token). */
export function locator(now: number): string {
  const bytes = Buffer.allocUnsafe(6 + LOCATOR_RANDOM_BYTES);
  bytes.writeUIntBE(now, 0, 6);
  secureRandomBytes(LOCATOR_RANDOM_BYTES).copy(bytes, 6);
  return base62(bytes, LOCATOR_LENGTH);
}

/** A new token of `kind`; `now` (epoch ms) dates the locator of access and refresh tokens. */
export function generateToken(kind: TokenKind, now = Date.now()): string {
  const prefix = TOKEN_PREFIXES[kind];
  const body = (LOCATED.has(kind) ? locator(now) : '') + base62(secureRandomBytes(32), BODY_LENGTH);
  return withChecksum(prefix + body);
}

/** A token's prefix and body with their checksum appended. */
export function withChecksum(prefixAndBody: string): string {
  return prefixAndBody + checksum(prefixAndBody);
}

const TOKEN_SHAPE = new RegExp(`^([a-z]+_)((?:[0-9A-Za-z]{${LOCATOR_LENGTH}})?[0-9A-Za-z]{${BODY_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`);
const MAX_TOKEN_LENGTH = Math.max(...Object.values(TOKEN_PREFIXES).map((prefix) => prefix.length)) + LOCATOR_LENGTH + BODY_LENGTH + CHECKSUM_LENGTH;

/** Which kind a string is, if it is a well-formed token with a valid checksum. */
export function parseToken(value: unknown): TokenKind | undefined {
  if (typeof value !== 'string' || value.length > MAX_TOKEN_LENGTH) return undefined;
  const match = TOKEN_SHAPE.exec(value);
  if (!match) return undefined;
  const [, prefix, body, sum] = match as unknown as [string, string, string, string];
  if (checksum(prefix + body) !== sum) return undefined;
  const kind = (Object.keys(TOKEN_PREFIXES) as TokenKind[]).find((candidate) => TOKEN_PREFIXES[candidate] === prefix);
  // Only access and refresh tokens may carry a locator, and only they may lack one (issued before 010).
  return kind && (body.length === BODY_LENGTH || LOCATED.has(kind)) ? kind : undefined;
}

/** The id of a well-formed access or refresh token's row: its locator, or for an older token its hash. */
export function tokenRowId(token: string): string {
  const body = token.slice(token.indexOf('_') + 1, -CHECKSUM_LENGTH);
  return body.length === BODY_LENGTH ? hashToken(token) : body.slice(0, LOCATOR_LENGTH);
}

/** True when `value` is a well-formed token of `kind` (checksum included). */
export function isToken(value: unknown, kind: TokenKind): value is string {
  return parseToken(value) === kind;
}

export function hashToken(value: string): string {
  return hash('sha256', value, 'hex');
}

/** Compares two secrets in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  // Compare against itself on a length mismatch so the time taken does not reveal the length.
  return left.length === right.length ? timingSafeEqual(left, right) : (timingSafeEqual(left, left), false);
}

/** Regular expressions for secret scanners, one per publicly issued token kind. */
export function scanningPatterns(): Array<{ kind: TokenKind; prefix: string; regex: string }> {
  return (['accessToken', 'refreshToken', 'personalApiKey'] as const).map((kind) => ({
    kind,
    prefix: TOKEN_PREFIXES[kind],
    regex: `\\b${TOKEN_PREFIXES[kind]}${LOCATED.has(kind) ? `(?:[0-9A-Za-z]{${LOCATOR_LENGTH}})?` : ''}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}\\b`,
  }));
}

/** Enough of a token for its owner to recognise it, never enough to use it. */
export function maskToken(token: string): string {
  return `${token.slice(0, 8)}…`;
}
