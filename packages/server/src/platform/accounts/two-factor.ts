/**
 * Two-factor sign-in with TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, as every
 * authenticator app supports), through `otpauth`; the enrolment QR code is an SVG from `uqr`.
 *
 * The secret is sealed at rest under TESSERA_SECRET_KEY (src/oauth/seal.ts), like signing keys.
 * Enrolment stores it unconfirmed; the first right code confirms it and yields ten single-use
 * recovery codes, shown once and stored as SHA-256 hashes (80 random bits each). A code is
 * accepted one step either side of now (clock drift), and never for a step at or before the last
 * one accepted (RFC 6238 §5.2), so an observed code cannot be replayed.
 */
import { randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { renderSVG } from 'uqr';
import { recordAudit, type AuditEventType, type RequestMeta } from '../../core/audit.js';
import type { Context } from '../../core/context.js';
import { sendMail } from '../mail.js';
import { seal, unseal } from '../../core/crypto/seal.js';
import { hashToken } from '../../core/crypto/token-formats.js';
import type { Repositories } from '../../store/index.js';
import type { User } from '../../store/schema.js';
import { AccountError } from './users.js';

const SEAL_PURPOSE = 'totp secret';
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** Steps accepted either side of the current one. */
const WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;

export interface Enrolment {
  /** The secret in base32, for typing into an app that cannot scan. */
  secret: string;
  /** The otpauth:// URI the QR code holds. */
  uri: string;
  /** The QR code as an SVG data: URL (the CSP allows data: images, never inline script or style). */
  qrCode: string;
}

export interface TwoFactorStatus {
  enabled: boolean;
  recoveryCodesLeft: number;
}

function totp(ctx: Context, secret: string, label: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer: ctx.config.platformName, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD_SECONDS, secret: OTPAuth.Secret.fromBase32(secret) });
}

/** The time step a code is valid for, or undefined when it is not valid now. */
function matchingStep(ctx: Context, secret: string, code: string, now: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totp(ctx, secret, '').validate({ token: code, timestamp: now, window: WINDOW });
  return delta === null ? undefined : Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
}

function enrolment(ctx: Context, user: Pick<User, 'email'>, secret: string): Enrolment {
  const uri = totp(ctx, secret, user.email).toString();
  return { secret, uri, qrCode: `data:image/svg+xml;base64,${Buffer.from(renderSVG(uri, { border: 2 })).toString('base64')}` };
}

/** `abcd-efgh-ijkl-mnop`: 80 random bits in RFC 4648 base32, lower case. */
function newRecoveryCode(): string {
  const base32 = new OTPAuth.Secret({ buffer: Uint8Array.from(randomBytes(10)).buffer }).base32.toLowerCase();
  return base32.match(/.{4}/g)!.join('-');
}

/** What a user typed, in the form its hash was taken of: case, spaces and hyphens do not matter. */
function recoveryCodeHash(typed: string): string {
  return hashToken(typed.toLowerCase().replace(/[\s-]+/g, ''));
}

async function storeRecoveryCodes(tx: Repositories, userId: string, now: number): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await tx.twoFactor.replaceRecoveryCodes(userId, codes.map((code) => ({ user_id: userId, code_hash: recoveryCodeHash(code), created_at: now, used_at: null })));
  return codes;
}

export async function twoFactorStatus(store: Repositories, userId: string): Promise<TwoFactorStatus> {
  if (!(await hasTwoFactor(store, userId))) return { enabled: false, recoveryCodesLeft: 0 };
  return { enabled: true, recoveryCodesLeft: await store.twoFactor.unusedRecoveryCodes(userId) };
}

export async function hasTwoFactor(store: Repositories, userId: string): Promise<boolean> {
  return (await store.twoFactor.find(userId, { confirmed: true })) !== undefined;
}

/** Starts (or restarts) enrolment with a new secret, unconfirmed until the first right code. */
export async function startEnrolment(ctx: Context, user: User): Promise<Enrolment> {
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  const now = ctx.now();
  const started = await ctx.store.transaction(async (tx) => {
    if (await hasTwoFactor(tx, user.id)) return false;
    await tx.twoFactor.startEnrolment({ user_id: user.id, secret_sealed: seal(ctx.config.secretKey, SEAL_PURPOSE, secret), confirmed_at: null, last_used_step: null, created_at: now });
    return true;
  });
  if (!started) throw new AccountError('Two-factor sign-in is already on.');
  return enrolment(ctx, user, secret);
}

/** The enrolment waiting for its first code, to show again. */
export async function pendingEnrolment(ctx: Context, user: User): Promise<Enrolment | undefined> {
  const row = await ctx.store.twoFactor.find(user.id, { confirmed: false });
  return row && enrolment(ctx, user, unseal(ctx.config.secretKey, SEAL_PURPOSE, row.secret_sealed));
}

/** Confirms enrolment with a first code; returns the recovery codes (shown once), or undefined for a wrong code. */
export async function confirmEnrolment(ctx: Context, user: User, code: string, meta: RequestMeta): Promise<string[] | undefined> {
  const now = ctx.now();
  return ctx.store.transaction(async (tx) => {
    const row = await tx.twoFactor.find(user.id, { confirmed: false });
    if (!row) return undefined;
    const step = matchingStep(ctx, unseal(ctx.config.secretKey, SEAL_PURPOSE, row.secret_sealed), code.trim(), now);
    if (step === undefined) return undefined;
    if (!(await tx.twoFactor.confirm(user.id, step, now))) return undefined;
    const codes = await storeRecoveryCodes(tx, user.id, now);
    await notify(ctx, tx, user, 'two_factor.enabled', 'Two-factor sign-in was turned on for your account. From now on, signing in asks for a code from your authenticator app after your password.', meta, now);
    return codes;
  });
}

/**
 * Checks a second factor inside the caller's transaction and uses it up: a TOTP code for a step
 * after the last one accepted, or an unused recovery code. Undefined when neither.
 */
export async function useSecondFactor(ctx: Context, tx: Repositories, userId: string, typed: string, now: number): Promise<'totp' | 'recovery' | undefined> {
  const code = typed.trim();
  const row = await tx.twoFactor.find(userId, { confirmed: true });
  if (!row) return undefined;
  if (/^\d{6}$/.test(code)) {
    const step = matchingStep(ctx, unseal(ctx.config.secretKey, SEAL_PURPOSE, row.secret_sealed), code, now);
    // Of concurrent uses of one code, one moves the step on; the others (and any replay) find it taken.
    return step !== undefined && (await tx.twoFactor.useStep(userId, step)) ? 'totp' : undefined;
  }
  return (await tx.twoFactor.useRecoveryCode(userId, recoveryCodeHash(code), now)) ? 'recovery' : undefined;
}

/** New recovery codes (the old ones stop working); shown once. */
export async function regenerateRecoveryCodes(ctx: Context, user: User, meta: RequestMeta): Promise<string[]> {
  const now = ctx.now();
  return ctx.store.transaction(async (tx) => {
    if (!(await hasTwoFactor(tx, user.id))) throw new AccountError('Two-factor sign-in is not on.');
    const codes = await storeRecoveryCodes(tx, user.id, now);
    await notify(ctx, tx, user, 'two_factor.recovery_codes_regenerated', 'New recovery codes were made for your account; the old ones no longer work.', meta, now);
    return codes;
  });
}

/**
 * Turns two-factor sign-in off: by the user (who proved it with a password or code) or by an
 * instance admin (`tessera user reset-2fa`, actor `system:cli`). False when it was not on.
 */
export async function disableTwoFactor(ctx: Context, user: User, meta: RequestMeta & { actor?: string }): Promise<boolean> {
  const now = ctx.now();
  const byAdmin = meta.actor !== undefined && meta.actor !== user.id;
  return ctx.store.transaction(async (tx) => {
    const wasOn = await hasTwoFactor(tx, user.id);
    // An enrolment never confirmed goes too, but turning off what was not on is no event.
    await tx.twoFactor.remove(user.id);
    if (!wasOn) return false;
    const message = byAdmin
      ? 'An administrator turned two-factor sign-in off for your account, at your request. Turn it on again under Settings › Security.'
      : 'Two-factor sign-in was turned off for your account.';
    await notify(ctx, tx, user, byAdmin ? 'two_factor.reset' : 'two_factor.disabled', message, meta, now);
    return true;
  });
}

/** The audit event and a mail to the owner, in the change's transaction. */
async function notify(ctx: Context, tx: Repositories, user: User, type: AuditEventType, message: string, meta: RequestMeta & { actor?: string }, now: number): Promise<void> {
  await recordAudit(tx, { type, userId: user.id, actor: meta.actor ?? user.id, ip: meta.ip }, now);
  const warning = `If this was not you, reset your password at ${ctx.config.baseUrl}/password/forgot at once.`;
  await sendMail(tx, { to: user.email, subject: `Two-factor sign-in changed on your ${ctx.config.platformName} account`, body: `${message}\n\n${warning}` }, now);
}
