/** Token strings built by hand, for the formats and forgeries that Tessera itself never issues. */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { base62 } from '../../src/oauth/tokens.js';

/** `prefix + body` with a valid checksum: it passes the format check, whatever the body is. */
export function checksummed(prefix: string, body: string): string {
  const crc = crc32(prefix + body);
  return prefix + body + base62(Uint8Array.of(crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff), 6);
}

/** 256 fresh random bits in a token body's 43 base62 characters. */
export function randomBody(): string {
  return base62(randomBytes(32), 43);
}
