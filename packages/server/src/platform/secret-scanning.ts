/**
 * GitHub secret-scanning partner program: GitHub finds one of our tokens in public, posts it to us
 * signed with ECDSA P-256, and we revoke it, audit it and tell its owner. The answer labels each
 * reported token `true_positive` (one of ours, known to the database) or `false_positive`.
 */
import { verify } from 'node:crypto';
import { recordAudit, type RequestMeta } from '../core/audit.js';
import type { Context } from '../core/context.js';
import { sendMail } from './mail.js';
import { OAuthError } from '../core/oauth/errors.js';
import { findAccessToken, findRefreshToken, isActiveAccessToken, presentedTokenKind } from '../core/oauth/tokens.js';
import type { Repositories } from '../store/index.js';
import { hashToken, maskToken, type TokenKind } from '../core/crypto/token-formats.js';

/** GitHub sends at most this many matches per request; more is not a report from GitHub. */
export const MAX_REPORTED_TOKENS = 1000;

const KEY_CACHE_MS = 24 * 3600 * 1000;
/** An unknown key identifier triggers a refetch, but no more often than this. */
const KEY_REFETCH_INTERVAL_MS = 60 * 1000;
const KEY_FETCH_TIMEOUT_MS = 5000;

/** Finds the PEM public key GitHub signs with under an identifier. */
export interface PublicKeySource {
  find(keyIdentifier: string): Promise<string | undefined>;
}

/** GitHub's published secret-scanning keys, cached in process for a day. */
export function githubPublicKeys(url: string, now: () => number): PublicKeySource {
  let keys = new Map<string, string>();
  let fetchedAt = -Infinity;
  let inFlight: Promise<void> | undefined;

  async function load(): Promise<void> {
    // Set before fetching so a failing key server is not hammered either.
    fetchedAt = now();
    const document = (await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS) })
      .then((response) => (response.ok ? response.json() : undefined))
      .catch(() => undefined)) as { public_keys?: unknown } | undefined;
    if (!Array.isArray(document?.public_keys)) throw new OAuthError('temporarily_unavailable', 'the secret-scanning public keys could not be fetched');
    keys = new Map(
      document.public_keys
        .filter((entry): entry is { key_identifier: string; key: string } => typeof entry?.key_identifier === 'string' && typeof entry?.key === 'string')
        .map((entry) => [entry.key_identifier, entry.key]),
    );
  }

  function refresh(): Promise<void> {
    inFlight ??= load().finally(() => (inFlight = undefined));
    return inFlight;
  }

  return {
    async find(keyIdentifier) {
      const stale = now() - fetchedAt >= KEY_CACHE_MS;
      const unknownAndDue = !keys.has(keyIdentifier) && now() - fetchedAt >= KEY_REFETCH_INTERVAL_MS;
      if (stale || unknownAndDue) {
        // An outage of the key server does not stop a key we already hold from verifying.
        await refresh().catch((error: unknown) => {
          if (!keys.has(keyIdentifier)) throw error;
        });
      }
      return keys.get(keyIdentifier);
    },
  };
}

/** True when `signature` (base64 DER ECDSA, SHA-256) over the raw body verifies under the named key. */
export async function verifySignature(keys: PublicKeySource, body: Buffer, keyIdentifier: string, signature: string): Promise<boolean> {
  const key = await keys.find(keyIdentifier);
  if (!key) return false;
  try {
    return verify('sha256', body, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    // A key that is not a valid PEM, or a signature that is not DER, is simply not a valid signature.
    return false;
  }
}

export interface ReportedToken {
  token: string;
  type?: string;
  url?: string;
  source?: string;
}

export interface ScanningVerdict {
  token_hash: string;
  token_type: string;
  label: 'true_positive' | 'false_positive';
}

/** Reads GitHub's report: a JSON array of at most 1000 matches, each with a string token. */
export function parseReport(body: Buffer): ReportedToken[] {
  let items: unknown;
  try {
    items = JSON.parse(body.toString('utf8'));
  } catch {
    throw new OAuthError('invalid_request', 'the body is not JSON');
  }
  if (!Array.isArray(items)) throw new OAuthError('invalid_request', 'the body must be a JSON array of matches');
  if (items.length > MAX_REPORTED_TOKENS) throw new OAuthError('invalid_request', `at most ${MAX_REPORTED_TOKENS} matches per report`);
  const optional = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return items.map((item: unknown) => {
    const match = item as Record<string, unknown> | null;
    if (typeof match?.token !== 'string') throw new OAuthError('invalid_request', 'every match needs a string token');
    return { token: match.token, type: optional(match.type), url: optional(match.url), source: optional(match.source) };
  });
}

const DESCRIPTIONS = {
  accessToken: { detailType: 'access_token', name: 'OAuth access token', consequence: 'The token no longer works.' },
  refreshToken: {
    detailType: 'refresh_token',
    name: 'OAuth refresh token',
    consequence: 'The token and every token issued with it no longer work; the app will ask you to sign in again.',
  },
  personalApiKey: { detailType: 'personal_api_key', name: 'personal API key', consequence: 'The key no longer works; create a new one in your settings.' },
} satisfies Partial<Record<TokenKind, { detailType: string; name: string; consequence: string }>>;

type ScannedKind = keyof typeof DESCRIPTIONS;
const isScannedKind = (kind: TokenKind | undefined): kind is ScannedKind => kind !== undefined && Object.hasOwn(DESCRIPTIONS, kind);

/** What a revocation found: whether the token is ours, and what was revoked for whom. */
type Finding = { known: false } | { known: true; revoked?: { userId: string; clientId: string | null; detail: Record<string, unknown> } };

/** Revokes every reported token of ours; each revocation, its audit event and its mail share a transaction. */
export async function revokeReportedTokens(ctx: Context, items: ReportedToken[], meta: RequestMeta = {}): Promise<ScanningVerdict[]> {
  const verdicts: ScanningVerdict[] = [];
  for (const item of items) {
    const kind = presentedTokenKind(item.token);
    const finding: Finding = isScannedKind(kind) ? await revokeReported(ctx, kind, item, meta) : { known: false };
    verdicts.push({ token_hash: hashToken(item.token), token_type: item.type ?? 'unknown', label: finding.known ? 'true_positive' : 'false_positive' });
  }
  return verdicts;
}

async function revokeReported(ctx: Context, kind: ScannedKind, item: ReportedToken, meta: RequestMeta): Promise<Finding> {
  const now = ctx.now();
  return ctx.store.transaction(async (tx) => {
    const finding = await REVOKERS[kind](tx, item.token, now);
    if (finding.known && finding.revoked) {
      const { userId, clientId, detail } = finding.revoked;
      await recordAudit(
        tx,
        {
          type: 'secret_scanning.revoked',
          userId,
          actor: 'system:secret-scanning',
          clientId,
          ip: meta.ip,
          detail: { token_type: DESCRIPTIONS[kind].detailType, ...detail, reported_type: item.type ?? null, url: item.url ?? null, source: item.source ?? null },
        },
        now,
      );
      await notifyOwner(ctx, tx, kind, item, userId, now);
      tx.afterCommit(() => ctx.metrics.revoked('secret_scanning'));
    }
    return finding;
  });
}

const REVOKERS: Record<ScannedKind, (tx: Repositories, token: string, now: number) => Promise<Finding>> = {
  /** Only the leaked access token dies; its refresh token did not leak and keeps the app working. */
  async accessToken(tx, token, now) {
    const record = await findAccessToken(tx, token);
    if (!record) return { known: false };
    if (!isActiveAccessToken(record, now)) return { known: true };
    await tx.tokens.revokeAccessToken(record.id, now);
    return { known: true, revoked: { userId: record.family.user_id, clientId: record.family.client_id, detail: { family_id: record.family.id } } };
  },
  /** A leaked refresh token can mint access tokens, so the whole family dies. */
  async refreshToken(tx, token, now) {
    const record = await findRefreshToken(tx, token);
    if (!record) return { known: false };
    const { family } = record;
    if (!(await tx.tokens.revokeFamily(family.id, 'exposed publicly (secret scanning)', now))) return { known: true };
    return { known: true, revoked: { userId: family.user_id, clientId: family.client_id, detail: { family_id: family.id } } };
  },
  async personalApiKey(tx, token, now) {
    const key = await tx.apiKeys.findByHash(hashToken(token));
    if (!key) return { known: false };
    if (!(await tx.apiKeys.revoke(key.id, now))) return { known: true };
    return { known: true, revoked: { userId: key.user_id, clientId: null, detail: { key_id: key.id } } };
  },
};

async function notifyOwner(ctx: Context, tx: Repositories, kind: ScannedKind, item: ReportedToken, userId: string, now: number): Promise<void> {
  const owner = await tx.accounts.findUser(userId);
  if (!owner) return;
  const { name, consequence } = DESCRIPTIONS[kind];
  const body = [
    `GitHub secret scanning found one of your ${ctx.config.platformName} credentials in public, so we revoked it.`,
    '',
    `Type: ${name}`,
    `Token: ${maskToken(item.token)}`,
    `Found at: ${item.url ?? 'a public location GitHub did not name'}`,
    '',
    consequence,
    'Remove the token from where it was published; it cannot be used again.',
  ].join('\n');
  await sendMail(tx, { to: owner.email, subject: `Your ${name} was found in public and has been revoked`, body }, now);
}
