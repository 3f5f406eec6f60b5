/**
 * ID token signing keys. They live in the database (so every instance signs with the same key),
 * the private half sealed under TESSERA_SECRET_KEY.
 *
 * A key's life: created and published in the JWKS at once; signs from `signs_from` (a publish
 * delay later on rotation, so relying parties that cache the JWKS have seen it before it signs);
 * retired when a newer key of its algorithm starts signing; dropped from the JWKS once every
 * ID token it signed has expired.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Config } from '../../config.js';
import { ID_TOKEN_ALGS, type IdTokenAlg } from '../clients/client.js';
import { seal, unseal } from '../crypto/seal.js';
import type { Repositories, Store } from '../../store/index.js';
import type { SigningKeysTable } from '../../store/schema.js';

const SEAL_PURPOSE = 'signing key';
/** How long an instance trusts its cached copy of the key table; a rotation reaches it this late at most. */
const CACHE_MS = 30_000;

export type KeyStatus = 'pending' | 'active' | 'retired' | 'expired';

export interface SigningKeyInfo {
  kid: string;
  alg: IdTokenAlg;
  status: KeyStatus;
  createdAt: number;
  signsFrom: number;
  /** When a newer key took over; null while this one is pending or active. */
  retiredAt: number | null;
  /** When it leaves the JWKS: every ID token it signed has expired by then. */
  unpublishAt: number | null;
}

/** Status of every key: a key retires when the next key of its algorithm starts signing. */
export function describeKeys(rows: SigningKeysTable[], config: Config, now: number): SigningKeyInfo[] {
  const byAge = [...rows].sort((a, b) => a.signs_from - b.signs_from || a.created_at - b.created_at || a.kid.localeCompare(b.kid));
  return byAge.map((row, index) => {
    const next = byAge.slice(index + 1).find((other) => other.alg === row.alg);
    const retiredAt = next && next.signs_from <= now ? next.signs_from : null;
    const unpublishAt = retiredAt === null ? null : retiredAt + config.ttl.idToken * 1000;
    const status: KeyStatus = row.signs_from > now ? 'pending' : unpublishAt === null ? 'active' : unpublishAt <= now ? 'expired' : 'retired';
    return { kid: row.kid, alg: row.alg as IdTokenAlg, status, createdAt: row.created_at, signsFrom: row.signs_from, retiredAt, unpublishAt };
  });
}

async function createKey(store: Repositories, config: Config, alg: IdTokenAlg, signsFrom: number, now: number): Promise<SigningKeysTable> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
  const row: SigningKeysTable = {
    kid,
    alg,
    public_jwk: JSON.stringify(publicJwk),
    private_jwk_sealed: seal(config.secretKey, SEAL_PURPOSE, JSON.stringify(privateJwk)),
    created_at: now,
    signs_from: signsFrom,
  };
  await store.signingKeys.insert(row);
  return row;
}

/** Creates a first key for every algorithm that has none, signing at once (nothing to rotate from). */
export async function ensureSigningKeys(store: Repositories, config: Config, now: number): Promise<void> {
  const present = await store.signingKeys.algorithms();
  for (const alg of ID_TOKEN_ALGS) if (!present.has(alg)) await createKey(store, config, alg, now, now);
}

/**
 * Adds a new key for `alg`. It is published now and signs after the publish delay, or at once
 * with `immediately` (for a compromised key; relying parties refetch the JWKS on an unknown kid).
 * Keys whose tokens have all expired are deleted.
 */
export async function rotateSigningKey(
  store: Store,
  config: Config,
  alg: IdTokenAlg,
  now: number,
  options: { immediately?: boolean } = {},
): Promise<{ created: SigningKeyInfo; deleted: string[] }> {
  return store.transaction(async (tx) => {
    const signsFrom = options.immediately ? now : now + config.signingKeyPublishDelay * 1000;
    const row = await createKey(tx, config, alg, signsFrom, now);
    const keys = describeKeys(await tx.signingKeys.list(), config, now);
    const deleted = keys.filter((key) => key.status === 'expired').map((key) => key.kid);
    await tx.signingKeys.delete(deleted);
    return { created: keys.find((key) => key.kid === row.kid)!, deleted };
  });
}

export async function listSigningKeys(store: Repositories, config: Config, now: number): Promise<SigningKeyInfo[]> {
  return describeKeys(await store.signingKeys.list(), config, now);
}

export interface SigningKey {
  kid: string;
  alg: IdTokenAlg;
  key: CryptoKey | Uint8Array;
}

/**
 * The keys as one instance sees them: the active signing key per algorithm and the published
 * JWKS, from a copy of the table refreshed every few seconds.
 */
export class KeyRing {
  private cached: { rows: SigningKeysTable[]; loadedAt: number } | undefined;
  private readonly privateKeys = new Map<string, Promise<CryptoKey | Uint8Array>>();

  constructor(
    private readonly store: Repositories,
    private readonly config: Config,
    private readonly now: () => number,
  ) {}

  private async rows(store: Repositories): Promise<SigningKeysTable[]> {
    const now = this.now();
    if (!this.cached || now - this.cached.loadedAt > CACHE_MS || now < this.cached.loadedAt) {
      this.cached = { rows: await store.signingKeys.list(), loadedAt: now };
    }
    return this.cached.rows;
  }

  /** Forget the cached table, so a rotation written a moment ago is read at once (tests rotate and sign in one process). */
  invalidate(): void {
    this.cached = undefined;
  }

  /** `store`: a caller inside a transaction reads through its repositories. */
  async signingKey(alg: IdTokenAlg, store: Repositories = this.store): Promise<SigningKey> {
    const rows = await this.rows(store);
    const active = describeKeys(rows, this.config, this.now()).find((key) => key.alg === alg && key.status === 'active');
    if (!active) throw new Error(`no active ${alg} signing key; run tessera migrate or tessera keys rotate`);
    let key = this.privateKeys.get(active.kid);
    if (!key) {
      const row = rows.find((candidate) => candidate.kid === active.kid)!;
      key = importJWK(JSON.parse(unseal(this.config.secretKey, SEAL_PURPOSE, row.private_jwk_sealed)) as JWK, alg);
      this.privateKeys.set(active.kid, key);
    }
    return { kid: active.kid, alg, key: await key };
  }

  /** Every key that is pending, active or retired-but-still-verifying (RFC 7517 JWK Set). */
  async jwks(): Promise<{ keys: JWK[] }> {
    const rows = await this.rows(this.store);
    const published = new Set(describeKeys(rows, this.config, this.now()).filter((key) => key.status !== 'expired').map((key) => key.kid));
    return { keys: rows.filter((row) => published.has(row.kid)).map((row) => JSON.parse(row.public_jwk) as JWK) };
  }
}
