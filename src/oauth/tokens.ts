/**
 * Token formats. Every secret Tessera hands out is `<prefix><body><checksum>`:
 * 256 random bits as 43 base62 characters, then a 6-character base62 CRC-32 of prefix and body.
 * The checksum lets a mistyped or forged token be refused without a database read, and lets
 * secret scanners match only well-formed tokens. Only SHA-256 hashes are ever stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const TOKEN_PREFIXES = {
  accessToken: 'pha_',
  refreshToken: 'phr_',
  personalApiKey: 'phx_',
  authorizationCode: 'phac_',
  clientId: 'pca_',
  clientSecret: 'pcs_',
  session: 'phss_',
  emailVerification: 'phev_',
} as const;

export type TokenKind = keyof typeof TOKEN_PREFIXES;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 43; // ceil(256 / log2(62))
const CHECKSUM_LENGTH = 6; // ceil(32 / log2(62))

function base62(value: bigint, length: number): string {
  let out = '';
  while (value > 0n) {
    out = ALPHABET[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out.padStart(length, '0');
}

function checksum(prefixAndBody: string): string {
  return base62(BigInt(crc32(prefixAndBody)), CHECKSUM_LENGTH);
}

export function generateToken(kind: TokenKind): string {
  const prefix = TOKEN_PREFIXES[kind];
  const body = base62(BigInt('0x' + randomBytes(32).toString('hex')), BODY_LENGTH);
  return prefix + body + checksum(prefix + body);
}

const TOKEN_SHAPE = new RegExp(`^([a-z]+_)([0-9A-Za-z]{${BODY_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`);

/** Which kind a string is, if it is a well-formed token with a valid checksum. */
export function parseToken(value: unknown): TokenKind | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const match = TOKEN_SHAPE.exec(value);
  if (!match) return undefined;
  const [, prefix, body, sum] = match as unknown as [string, string, string, string];
  if (checksum(prefix + body) !== sum) return undefined;
  return (Object.keys(TOKEN_PREFIXES) as TokenKind[]).find((kind) => TOKEN_PREFIXES[kind] === prefix);
}

/** True when `value` is a well-formed token of `kind` (checksum included). */
export function isToken(value: unknown, kind: TokenKind): value is string {
  return parseToken(value) === kind;
}

export function hashToken(value: string): string {
  return createHash('sha256').update(value).digest('hex');
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
    regex: `\\b${TOKEN_PREFIXES[kind]}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}\\b`,
  }));
}

/** Enough of a token for its owner to recognise it, never enough to use it. */
export function maskToken(token: string): string {
  return `${token.slice(0, 8)}…`;
}
