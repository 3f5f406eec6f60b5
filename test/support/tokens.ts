/** Token strings built by hand, for the formats and forgeries that Tessera itself never issues. */
import { randomBytes } from 'node:crypto';
import { base62 } from '../../packages/server/src/core/crypto/token-formats.js';

/** 256 fresh random bits in a token body's 43 base62 characters. */
export function randomBody(): string {
  return base62(randomBytes(32), 43);
}
