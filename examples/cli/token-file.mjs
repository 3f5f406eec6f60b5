// @ts-check
/**
 * A TokenStore in one JSON file that only its owner can read or write (mode 0600, in a 0700
 * directory): the refresh token in it signs in as the user. Written to a temporary file first and
 * renamed over the old one, so a crash never leaves half a file.
 */
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** @typedef {import('@tessera/client').TokenStore} TokenStore */

/** @implements {TokenStore} */
export class TokenFile {
  /** @param {string} path */
  constructor(path) {
    this.path = path;
  }

  /** @returns {Promise<import('@tessera/client').StoredTokens | undefined>} */
  async get() {
    try {
      return JSON.parse(await readFile(this.path, 'utf8'));
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** @param {import('@tessera/client').StoredTokens} tokens */
  async set(tokens) {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    // `mode` applies only when the file is created; the chmod covers a leftover temporary file.
    await writeFile(temporary, JSON.stringify(tokens, null, 2), { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, this.path);
  }

  async clear() {
    await rm(this.path, { force: true });
  }
}
