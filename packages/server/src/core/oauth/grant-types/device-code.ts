/**
 * The device code grant (RFC 8628 §3.4, §3.5): the device polls with its device code until the
 * user has decided. While the request is pending the answer is `authorization_pending`, or
 * `slow_down` (and five more seconds on its interval) for a poll that came too soon; then
 * `access_denied` on denial, tokens once on approval, and `expired_token` after ten minutes. A
 * device code is single use: presented again after its tokens were issued, it is `invalid_grant`,
 * and, as for a replayed authorization code (RFC 9700 §4.5), the tokens it produced are revoked:
 * two parties holding one device code means it leaked.
 */
import { randomUUID } from 'node:crypto';
import { refuse, type Refusal, type Transaction } from '../../../store/index.js';
import type { DeviceAuthorization } from '../../../store/schema.js';
import { recordAudit, type RequestMeta } from '../../audit.js';
import type { OAuthClient } from '../../clients/client.js';
import type { Context } from '../../context.js';
import { hashToken, isToken } from '../../crypto/token-formats.js';
import { touchAuthorization } from '../authorizations.js';
import { OAuthError } from '../errors.js';
import { narrowingOf } from '../narrowing.js';
import { parseScope } from '../scopes.js';
import { tokenResponse } from '../token-response.js';
import { createFamily, mintTokens } from '../tokens.js';
import type { GrantTypeHandler } from './handler.js';

/** §3.5: what each slow_down adds to the interval. */
const SLOW_DOWN_SECONDS = 5;
/** A poll up to a quarter of the interval early counts as on time: timers and networks jitter. */
const EARLY_POLL_TOLERANCE = 0.25;

/** Unknown, forged or another client's: one answer, so that it never tells a caller a code exists. */
const invalidDeviceCode = () => new OAuthError('invalid_grant', 'the device code is invalid');

/** A redeemed device code presented again: revokes the family its redemption issued, and is refused. */
async function refuseReplay(ctx: Context, tx: Transaction, client: OAuthClient, redeemed: Pick<DeviceAuthorization, 'user_id' | 'family_id'>, meta: RequestMeta, now: number): Promise<Refusal> {
  if (redeemed.family_id !== null && (await tx.tokens.revokeFamily(redeemed.family_id, 'device code replayed', now))) {
    await recordAudit(tx, { type: 'device_code.replay_detected', userId: redeemed.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip, detail: { family_id: redeemed.family_id } }, now);
    tx.afterCommit(() => ctx.metrics.revoked('device_code_replay'));
  }
  return refuse(new OAuthError('invalid_grant', 'the device code has already been used'));
}

export const deviceCodeGrant: GrantTypeHandler<'device_code'> = {
  parameters: ['device_code'],

  async handle(ctx, client, params, meta) {
    if (!params.device_code) throw new OAuthError('invalid_request', 'device_code is required');
    if (!isToken(params.device_code, 'deviceCode')) throw invalidDeviceCode();
    const deviceCodeHash = hashToken(params.device_code);
    const now = ctx.now();

    return ctx.store.transaction(async (tx) => {
      const request = await tx.deviceAuthorizations.findByDeviceCode(deviceCodeHash);
      if (!request || request.client_id !== client.id) return refuse(invalidDeviceCode());
      if (request.consumed_at !== null) return refuseReplay(ctx, tx, client, request, meta, now);
      if (request.expires_at <= now) return refuse(new OAuthError('expired_token', 'the device code has expired; start the sign-in again'));
      if (request.status === 'denied') return refuse(new OAuthError('access_denied', 'the user denied the request'));
      if (request.status === 'pending') {
        const minimumGap = request.interval_seconds * 1000 * (1 - EARLY_POLL_TOLERANCE);
        const tooSoon = request.last_polled_at !== null && now - request.last_polled_at < minimumGap;
        // The poll is recorded either way: the refusal commits it.
        await tx.deviceAuthorizations.recordPoll(deviceCodeHash, request.interval_seconds + (tooSoon ? SLOW_DOWN_SECONDS : 0), now);
        return refuse(
          tooSoon
            ? new OAuthError('slow_down', `poll at most every ${request.interval_seconds + SLOW_DOWN_SECONDS} seconds`)
            : new OAuthError('authorization_pending', 'the user has not decided yet'),
        );
      }
      // Approved. Claim it atomically: of any number of concurrent polls exactly one gets the tokens,
      // and the others are replays of it (the row read again names the family the winner issued).
      const familyId = randomUUID();
      if (!(await tx.deviceAuthorizations.claim(deviceCodeHash, familyId, now))) {
        return refuseReplay(ctx, tx, client, (await tx.deviceAuthorizations.findByDeviceCode(deviceCodeHash)) ?? request, meta, now);
      }
      const authorization = request.authorization_id === null ? undefined : await tx.authorizations.findById(request.authorization_id);
      if (!authorization || request.user_id === null) return refuse(new OAuthError('invalid_grant', 'the authorization behind this device code was revoked'));
      const family = await createFamily(
        tx,
        {
          id: familyId,
          userId: request.user_id,
          clientId: client.id,
          authorizationId: authorization.id,
          scopes: parseScope(request.scope),
          narrowing: narrowingOf(authorization),
          resource: request.resource,
          authTime: request.auth_time ?? now,
          amr: request.amr,
        },
        now,
      );
      const issued = await mintTokens(ctx, tx, family, client, family.scope);
      await touchAuthorization(tx, authorization.id, now);
      await recordAudit(tx, { type: 'token.issued', userId: request.user_id, actor: `client:${client.id}`, clientId: client.id, ip: meta.ip, detail: { scope: family.scope, family_id: family.id, grant_type: 'device_code' } }, now);
      const idToken = await ctx.idTokens.issue(tx, { family, client, accessToken: issued.accessToken, nonce: null });
      return tokenResponse(issued, family, idToken);
    });
  },
};
