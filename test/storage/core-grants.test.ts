/**
 * The code and refresh grants, revocation and introspection, driven through the protocol
 * functions on every storage target (SQLite always, PostgreSQL when TEST_DATABASE_URL is set).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSession } from '../../packages/server/src/platform/accounts/sessions.js';
import { sendVerificationEmail } from '../../packages/server/src/platform/accounts/email-verification.js';
import type { User } from '../../packages/server/src/store/schema.js';
import { issueCode } from '../../packages/server/src/core/oauth/authorize/issue.js';
import type { AuthorizationRequest } from '../../packages/server/src/core/oauth/authorize/request.js';
import type { OAuthClient } from '../../packages/server/src/core/clients/client.js';
import { saveAuthorization, type Consent } from '../../packages/server/src/core/oauth/authorizations.js';
import { FULL_ACCESS, type Narrowing } from '../../packages/server/src/core/oauth/narrowing.js';
import { OAuthError } from '../../packages/server/src/core/oauth/errors.js';
import { authorizationCodeGrant } from '../../packages/server/src/core/oauth/grant-types/authorization-code.js';
import { refreshTokenGrant } from '../../packages/server/src/core/oauth/grant-types/refresh-token.js';
import { introspectToken } from '../../packages/server/src/core/oauth/introspect.js';
import { s256 } from '../../packages/server/src/core/oauth/pkce.js';
import { revokeToken } from '../../packages/server/src/core/oauth/revoke.js';
import { hashToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { storageTargets } from '../support/database.js';
import { createTestRuntime, type TestRuntime } from '../support/runtime.js';
import { seedClient, seedOrganization, seedUser } from '../support/seed.js';

const VERIFIER = 'v'.repeat(43);
const REDIRECT = 'http://127.0.0.1:9999/callback';

/** The token with its last character changed: a forgery whose checksum no longer matches. */
const tamper = (token: string) => token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof OAuthError, `expected OAuthError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message) assert.match(error.description, message);
    return true;
  });
}

for (const target of storageTargets()) {
  describe(`grants, revocation and introspection (${target.name})`, () => {
    let rt: TestRuntime;
    let user: User;
    let client: OAuthClient;
    let other: OAuthClient;

    before(async () => {
      rt = await createTestRuntime(target);
      user = await seedUser(rt.ctx);
      client = (await seedClient(rt.ctx, { redirectUris: [REDIRECT] })).client;
      other = (await seedClient(rt.ctx, { redirectUris: [REDIRECT] })).client;
    });
    after(() => rt.dispose());

    const saveGrant = (consent: Consent) => rt.ctx.store.transaction((tx) => saveAuthorization(tx, consent, rt.ctx.now()));
    const refreshTokens = (forClient: OAuthClient, params: { refresh_token?: string; scope?: string; resource?: string }) =>
      refreshTokenGrant.handle(rt.ctx, forClient, params, {});
    const purgeExpired = (batchSize?: number) => rt.store.purgeExpired(rt.ctx.now(), batchSize === undefined ? {} : { batchSize });

    async function code(options: { scopes?: string[]; narrowing?: Narrowing; forClient?: OAuthClient } = {}) {
      const forClient = options.forClient ?? client;
      const scopes = options.scopes ?? ['project:read', 'annotation:write'];
      const grant = await saveGrant({ userId: user.id, clientId: forClient.id, scopes, narrowing: options.narrowing ?? FULL_ACCESS });
      const request: AuthorizationRequest = {
        client: forClient,
        redirectUri: REDIRECT,
        state: 's',
        scopes,
        codeChallenge: s256(VERIFIER),
        nonce: undefined,
        prompt: new Set(),
        maxAge: undefined,
        resource: undefined,
        requiredAccessLevel: undefined,
        projectHint: undefined,
        acr: undefined,
      };
      const location = new URL(await issueCode(rt.ctx, rt.ctx.store, request, { userId: user.id, email: user.email, authTime: rt.ctx.now(), amr: ['pwd'] }, grant));
      return location.searchParams.get('code')!;
    }

    const redeem = (value: string, overrides: Record<string, string | undefined> = {}, forClient = client) =>
      authorizationCodeGrant.handle(rt.ctx, forClient, { code: value, redirect_uri: REDIRECT, code_verifier: VERIFIER, ...overrides }, {});

    it('migrations are idempotent', async () => {
      const again = await rt.store.migrate();
      assert.deepEqual(again.results, []);
    });

    it('redeems a code once for a pair of prefixed tokens', async () => {
      const tokens = await redeem(await code());
      assert.match(tokens.access_token, /^pha_[0-9A-Za-z]{71}$/);
      assert.match(tokens.refresh_token!, /^phr_[0-9A-Za-z]{71}$/);
      assert.equal(tokens.token_type, 'Bearer');
      assert.equal(tokens.expires_in, 3600);
      assert.equal(tokens.scope, 'project:read annotation:write');
      assert.equal(tokens.access_level, 'all');
    });

    it('stores only hashes of codes and tokens', async () => {
      const value = await code();
      const tokens = await redeem(value);
      const rows = JSON.stringify([
        await rt.db.selectFrom('authorization_codes').selectAll().execute(),
        await rt.db.selectFrom('access_tokens').selectAll().execute(),
        await rt.db.selectFrom('refresh_tokens').selectAll().execute(),
      ]);
      for (const secret of [value, tokens.access_token, tokens.refresh_token!]) assert.ok(!rows.includes(secret));
    });

    it('refuses a replayed code and revokes every token issued from it', async () => {
      const value = await code();
      const tokens = await redeem(value);
      await rejects(redeem(value), 'invalid_grant', /already been used/);
      assert.deepEqual(await introspectToken(rt.ctx, client, { token: tokens.access_token }), { active: false });
      await rejects(refreshTokens(client, { refresh_token: tokens.refresh_token }), 'invalid_grant');
      const events = await rt.db.selectFrom('audit_events').select('type').where('type', '=', 'authorization_code.replay_detected').execute();
      assert.ok(events.length >= 1);
    });

    it('refuses an expired code (10 minutes by default)', async () => {
      const value = await code();
      rt.advance(601_000);
      await rejects(redeem(value), 'invalid_grant', /expired/);
    });

    it('binds the code to its client, redirect URI and PKCE verifier', async () => {
      // Another client's code is answered as an unknown one: the answer must not tell that it exists.
      const unknown = await redeem(tamper(await code())).catch((error: OAuthError) => error);
      const foreign = await redeem(await code(), {}, other).catch((error: OAuthError) => error);
      assert.ok(unknown instanceof OAuthError && foreign instanceof OAuthError);
      assert.deepEqual(foreign.toJSON(), unknown.toJSON());
      assert.deepEqual(foreign.toJSON(), { error: 'invalid_grant', error_description: 'the authorization code is invalid' });
      await rejects(redeem(await code(), { redirect_uri: 'http://127.0.0.1:9999/other' }), 'invalid_grant', /redirect_uri/);
      await rejects(redeem(await code(), { code_verifier: 'w'.repeat(43) }), 'invalid_grant', /code_verifier/);
      await rejects(redeem(await code(), { code_verifier: undefined }), 'invalid_grant', /code_verifier is required/);
      await rejects(redeem(await code(), { code_verifier: 'short' }), 'invalid_grant', /malformed/);
    });

    it('refuses malformed, forged and missing codes', async () => {
      await rejects(redeem(''), 'invalid_request');
      await rejects(redeem('phac_nonsense'), 'invalid_grant');
      await rejects(redeem(tamper(await code())), 'invalid_grant');
    });

    it('rotates refresh tokens: a new pair on every use', async () => {
      const first = await redeem(await code());
      const second = await refreshTokens(client, { refresh_token: first.refresh_token });
      const third = await refreshTokens(client, { refresh_token: second.refresh_token });
      assert.equal(new Set([first.refresh_token, second.refresh_token, third.refresh_token]).size, 3);
      assert.equal(new Set([first.access_token, second.access_token, third.access_token]).size, 3);
      assert.equal((await introspectToken(rt.ctx, client, { token: third.access_token })).active, true);
    });

    it('answers a reuse within the grace window with the same successor pair', async () => {
      const first = await redeem(await code());
      const successor = await refreshTokens(client, { refresh_token: first.refresh_token });
      rt.advance(119_000);
      const retried = await refreshTokens(client, { refresh_token: first.refresh_token });
      assert.equal(retried.access_token, successor.access_token);
      assert.equal(retried.refresh_token, successor.refresh_token);
      // The family stays valid: the successor still rotates.
      const next = await refreshTokens(client, { refresh_token: successor.refresh_token });
      assert.equal((await introspectToken(rt.ctx, client, { token: next.access_token })).active, true);
    });

    it('treats a retry of a token whose successor was itself rotated as reuse, even inside the grace window', async () => {
      const r0 = await redeem(await code());
      const r1 = await refreshTokens(client, { refresh_token: r0.refresh_token });
      // R1 not rotated yet: a retry of R0 (a lost answer, a parallel request) still gets R1.
      assert.equal((await refreshTokens(client, { refresh_token: r0.refresh_token })).refresh_token, r1.refresh_token);
      const r2 = await refreshTokens(client, { refresh_token: r1.refresh_token });
      rt.advance(10_000);
      // R1 was used, so whoever still presents R0 is not the client that holds the chain.
      await rejects(refreshTokens(client, { refresh_token: r0.refresh_token }), 'invalid_grant', /family has been revoked/);
      await rejects(refreshTokens(client, { refresh_token: r2.refresh_token }), 'invalid_grant');
      assert.deepEqual(await introspectToken(rt.ctx, client, { token: r2.access_token }), { active: false });
      const family = await rt.db.selectFrom('token_families').select('revoked_reason').where('id', '=', (await rt.db.selectFrom('access_tokens').select('family_id').where('token_hash', '=', hashToken(r2.access_token)).executeTakeFirstOrThrow()).family_id).executeTakeFirstOrThrow();
      assert.match(family.revoked_reason ?? '', /reused/);
    });

    it('never answers a retry in the grace window with more scope than it asks for', async () => {
      const first = await redeem(await code());
      const successor = await refreshTokens(client, { refresh_token: first.refresh_token });
      assert.equal(successor.scope, 'project:read annotation:write');
      await rejects(refreshTokens(client, { refresh_token: first.refresh_token, scope: 'project:read' }), 'invalid_scope', /retry/);
      // The refusal changes nothing: the same retry with the scope it first asked for still gets the pair.
      const retried = await refreshTokens(client, { refresh_token: first.refresh_token, scope: 'annotation:write project:read' });
      assert.equal(retried.refresh_token, successor.refresh_token);
      // A retry may get less than it asks for (the answer says so), as a narrower first request gave.
      const narrowFirst = await redeem(await code());
      const narrowed = await refreshTokens(client, { refresh_token: narrowFirst.refresh_token, scope: 'project:read' });
      const wideRetry = await refreshTokens(client, { refresh_token: narrowFirst.refresh_token });
      assert.equal(wideRetry.refresh_token, narrowed.refresh_token);
      assert.equal(wideRetry.scope, 'project:read');
    });

    it('revokes the whole family when a rotated token is reused after the grace window', async () => {
      const first = await redeem(await code());
      const successor = await refreshTokens(client, { refresh_token: first.refresh_token });
      rt.advance(121_000);
      await rejects(refreshTokens(client, { refresh_token: first.refresh_token }), 'invalid_grant', /family has been revoked/);
      await rejects(refreshTokens(client, { refresh_token: successor.refresh_token }), 'invalid_grant');
      assert.deepEqual(await introspectToken(rt.ctx, client, { token: successor.access_token }), { active: false });
      const events = await rt.db.selectFrom('audit_events').select('type').where('type', '=', 'refresh_token.reuse_detected').execute();
      assert.ok(events.length >= 1);
    });

    it('lets a refresh ask for less scope, never more, and keeps the narrowing', async () => {
      const { organization } = await seedOrganization(rt.ctx, user.id, 'Narrowed');
      const narrowing: Narrowing = { accessLevel: 'organization', organizationIds: [organization.id], projectIds: [] };
      const first = await redeem(await code({ narrowing }));
      assert.deepEqual(first.scoped_organizations, [organization.id]);
      const narrower = await refreshTokens(client, { refresh_token: first.refresh_token, scope: 'project:read' });
      assert.equal(narrower.scope, 'project:read');
      assert.deepEqual(narrower.scoped_organizations, [organization.id]);
      assert.equal(narrower.access_level, 'organization');
      // annotation:write covers annotation:read, so asking for the read scope is a narrowing too.
      const read = await refreshTokens(client, { refresh_token: narrower.refresh_token, scope: 'annotation:read' });
      assert.equal(read.scope, 'annotation:read');
      await rejects(refreshTokens(client, { refresh_token: read.refresh_token, scope: 'query:read' }), 'invalid_scope');
    });

    it('revokes, in the consent that narrows a grant, the token families it no longer covers, and only those', async () => {
      const { organization: kept, projects: [inKept] } = await seedOrganization(rt.ctx, user.id, 'Kept', ['K']);
      const { projects: [inDropped] } = await seedOrganization(rt.ctx, user.id, 'Dropped', ['D']);
      const live = async (tokens: { access_token: string }) => (await introspectToken(rt.ctx, client, { token: tokens.access_token })).active;
      const project = await redeem(await code({ narrowing: { accessLevel: 'project', organizationIds: [], projectIds: [inKept!.id] } }));
      const organization = await redeem(await code({ narrowing: { accessLevel: 'organization', organizationIds: [kept.id], projectIds: [] } }));
      const full = await redeem(await code());
      // Each consent so far was as wide as the ones before (a project of Kept, Kept, everything): nothing revoked.
      assert.deepEqual([await live(project), await live(organization), await live(full)], [true, true, true]);

      const narrowed = { userId: user.id, clientId: client.id, scopes: ['project:read'] };
      await saveGrant({ ...narrowed, narrowing: { accessLevel: 'organization', organizationIds: [kept.id], projectIds: [] } });
      assert.deepEqual([await live(project), await live(organization), await live(full)], [true, true, false]);
      await rejects(refreshTokens(client, { refresh_token: full.refresh_token! }), 'invalid_grant');
      const stillKept = await refreshTokens(client, { refresh_token: organization.refresh_token! });
      assert.equal(stillKept.access_level, 'organization');

      await saveGrant({ ...narrowed, narrowing: { accessLevel: 'project', organizationIds: [], projectIds: [inDropped!.id] } });
      assert.deepEqual([await live(project), await live(stillKept)], [false, false]);
      const families = await rt.db.selectFrom('token_families').select('revoked_reason').where('user_id', '=', user.id).where('client_id', '=', client.id).where('revoked_reason', '=', 'consent narrowed').execute();
      assert.ok(families.length >= 3);
      const events = await rt.db.selectFrom('audit_events').select('detail').where('user_id', '=', user.id).where('type', '=', 'consent.granted').orderBy('at', 'desc').limit(2).execute();
      assert.deepEqual(events.map((event) => JSON.parse(event.detail).revoked_families).sort(), [1, 2]);
    });

    it('bounds a refresh by the client\'s ceiling as it is now (a CIMD document that dropped a scope, say)', async () => {
      const first = await redeem(await code());
      const lowered: OAuthClient = { ...client, scopeCeiling: ['project:read', 'annotation:read'] };
      const refreshed = await refreshTokens(lowered, { refresh_token: first.refresh_token! });
      assert.equal(refreshed.scope, 'project:read annotation:read');
      await rejects(refreshTokens(lowered, { refresh_token: refreshed.refresh_token!, scope: 'annotation:write' }), 'invalid_scope', /not allowed for this client/);
      await rejects(refreshTokens({ ...client, scopeCeiling: ['query:read'] }, { refresh_token: refreshed.refresh_token! }), 'invalid_scope', /none of the scopes/);
    });

    it('refuses a refresh token of another client, an expired one, and a forged one', async () => {
      const first = await redeem(await code());
      await rejects(refreshTokens(other, { refresh_token: first.refresh_token }), 'invalid_grant');
      await rejects(refreshTokens(client, { refresh_token: tamper(first.refresh_token!) }), 'invalid_grant');
      await rejects(refreshTokens(client, {}), 'invalid_request');
      rt.advance(31 * 24 * 3600 * 1000);
      await rejects(refreshTokens(client, { refresh_token: first.refresh_token }), 'invalid_grant');
    });

    it('revokes a refresh token with its family, access tokens included', async () => {
      const tokens = await redeem(await code());
      const result = await revokeToken(rt.ctx, client, { token: tokens.refresh_token, token_type_hint: 'refresh_token' });
      assert.equal(result.revoked, 'family');
      assert.deepEqual(await introspectToken(rt.ctx, client, { token: tokens.access_token }), { active: false });
      await rejects(refreshTokens(client, { refresh_token: tokens.refresh_token }), 'invalid_grant');
    });

    it('revokes an access token alone', async () => {
      const tokens = await redeem(await code());
      assert.equal((await revokeToken(rt.ctx, client, { token: tokens.access_token })).revoked, 'access_token');
      assert.deepEqual(await introspectToken(rt.ctx, client, { token: tokens.access_token }), { active: false });
      assert.ok(await refreshTokens(client, { refresh_token: tokens.refresh_token }));
    });

    it('ignores revocation of unknown tokens and of other clients’ tokens', async () => {
      const tokens = await redeem(await code());
      assert.deepEqual(await revokeToken(rt.ctx, other, { token: tokens.refresh_token }), { revoked: 'nothing' });
      assert.deepEqual(await revokeToken(rt.ctx, client, { token: 'not-a-token' }), { revoked: 'nothing' });
      assert.equal((await introspectToken(rt.ctx, client, { token: tokens.access_token })).active, true);
      await rejects(revokeToken(rt.ctx, client, { token: tokens.access_token, token_type_hint: 'id_token' }), 'unsupported_token_type');
    });

    it('introspects only the caller’s own tokens, with the narrowing', async () => {
      const { projects } = await seedOrganization(rt.ctx, user.id, 'Introspected');
      const narrowing: Narrowing = { accessLevel: 'project', organizationIds: [], projectIds: [projects[0]!.id] };
      const tokens = await redeem(await code({ narrowing }));
      const now = Math.floor(rt.ctx.now() / 1000);
      const answer = await introspectToken(rt.ctx, client, { token: tokens.access_token });
      assert.ok(answer.active);
      assert.equal(answer.scope, 'project:read annotation:write');
      assert.equal(answer.client_id, client.id);
      assert.equal(answer.sub, user.id);
      assert.equal(answer.token_type, 'Bearer');
      assert.ok(Math.abs(answer.iat - now) <= 1);
      assert.ok(Math.abs(answer.exp - (now + 3600)) <= 1);
      assert.equal(answer.access_level, 'project');
      assert.deepEqual(answer.scoped_projects, [projects[0]!.id]);
      const refresh = await introspectToken(rt.ctx, client, { token: tokens.refresh_token });
      assert.ok(refresh.active && refresh.token_type === 'refresh_token');
      assert.deepEqual(await introspectToken(rt.ctx, other, { token: tokens.access_token }), { active: false });
      rt.advance(3601_000);
      assert.deepEqual(await introspectToken(rt.ctx, client, { token: tokens.access_token }), { active: false });
    });

    it('honours per-client token lifetimes', async () => {
      const short = (await seedClient(rt.ctx, { redirectUris: [REDIRECT], accessTokenTtl: 60, refreshTokenTtl: 120 })).client;
      const tokens = await redeem(await code({ forClient: short }), {}, short);
      assert.equal(tokens.expires_in, 60);
      rt.advance(121_000);
      await rejects(refreshTokens(short, { refresh_token: tokens.refresh_token }), 'invalid_grant');
    });

    // Last: it moves the clock a month on.
    it('purges expired tokens, old codes, expired sessions and verification links, and keeps what can still be used', async () => {
      const spentCode = await code();
      const first = await redeem(spentCode);
      const second = await refreshTokens(client, { refresh_token: first.refresh_token });
      const session = await createSession(rt.ctx.store, user.id, ['pwd'], rt.ctx.now(), 3600);
      await sendVerificationEmail(rt.ctx.store, rt.config, user, rt.ctx.now());
      const stored = async () => ({
        accessTokens: (await rt.db.selectFrom('access_tokens').select('token_hash').where('token_hash', 'in', [first.access_token, second.access_token].map(hashToken)).execute()).length,
        refreshTokens: (await rt.db.selectFrom('refresh_tokens').select('token_hash').where('token_hash', 'in', [first.refresh_token!, second.refresh_token!].map(hashToken)).execute()).length,
        authorizationCodes: (await rt.db.selectFrom('authorization_codes').select('code_hash').where('code_hash', '=', hashToken(spentCode)).execute()).length,
        sessions: (await rt.db.selectFrom('sessions').select('id_hash').where('id_hash', '=', hashToken(session)).execute()).length,
        emailVerifications: (await rt.db.selectFrom('email_verifications').select('token_hash').where('user_id', '=', user.id).execute()).length,
      });
      const expiredLeft = async () => {
        const now = rt.ctx.now();
        const count = async (table: 'access_tokens' | 'refresh_tokens' | 'sessions') =>
          Number((await rt.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('expires_at', '<=', now).executeTakeFirstOrThrow()).n);
        return [await count('access_tokens'), await count('refresh_tokens'), await count('sessions')];
      };

      // Two hours on: the access tokens and the session have expired; the code is expired but kept for a day.
      rt.advance(2 * 3600_000);
      const firstPurge = await purgeExpired(2); // small batches: many rounds
      assert.ok(firstPurge.accessTokens >= 2 && firstPurge.sessions >= 1, JSON.stringify(firstPurge));
      assert.deepEqual(await stored(), { accessTokens: 0, refreshTokens: 2, authorizationCodes: 1, sessions: 0, emailVerifications: 1 });
      assert.deepEqual(await expiredLeft(), [0, 0, 0]);
      // The rotated refresh token is kept so that its reuse is still caught; the live one still works.
      const third = await refreshTokens(client, { refresh_token: second.refresh_token });
      assert.match(third.refresh_token!, /^phr_/);

      // A month on: everything issued above has expired.
      rt.advance(31 * 24 * 3600_000);
      const secondPurge = await purgeExpired(2);
      assert.ok(secondPurge.refreshTokens >= 3 && secondPurge.authorizationCodes >= 1 && secondPurge.emailVerifications >= 1, JSON.stringify(secondPurge));
      assert.deepEqual(await stored(), { accessTokens: 0, refreshTokens: 0, authorizationCodes: 0, sessions: 0, emailVerifications: 0 });
      assert.deepEqual(await expiredLeft(), [0, 0, 0]);
      assert.deepEqual(await purgeExpired(), { accessTokens: 0, refreshTokens: 0, authorizationCodes: 0, sessions: 0, emailVerifications: 0, signupRequests: 0, passwordResets: 0, pendingSignIns: 0, deviceAuthorizations: 0 });
    });
  });
}
