/**
 * Crash recovery: Tessera runs as a child process (`tessera start`), takes a load of concurrent
 * code exchanges (some codes sent twice at once) and refresh chains, and is killed with SIGKILL in
 * the middle of it. Restarted on the same database, it must honour every answer it gave: each
 * access token it handed out is still active, each refresh chain resumes from the last refresh
 * token it handed out, no code is redeemed twice, and no row is left half-written.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../packages/server/src/config.js';
import { saveAuthorization } from '../../packages/server/src/core/oauth/authorizations.js';
import { issueCode } from '../../packages/server/src/core/oauth/authorize/issue.js';
import { validateAuthorizationParams } from '../../packages/server/src/core/oauth/authorize/request.js';
import { authorizationCodeGrant } from '../../packages/server/src/core/oauth/grant-types/authorization-code.js';
import { FULL_ACCESS } from '../../packages/server/src/core/oauth/narrowing.js';
import { s256 } from '../../packages/server/src/core/oauth/pkce.js';
import { hashToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { createRuntime } from '../../packages/server/src/runtime.js';
import { openDatabase } from '../../packages/server/src/store/database.js';
import { cliDatabaseUrl, storageTargets } from '../support/database.js';
import { assertNothingHalfWritten } from '../support/invariants.js';
import { basicAuth } from '../support/oauth-client.js';
import { seedClient, seedUser } from '../support/seed.js';
import { freePort } from '../support/server.js';
import { startTesseraProcess, type TesseraProcess } from '../support/child-server.js';

const REDIRECT = 'http://127.0.0.1:9999/callback';
const VERIFIER = 'c'.repeat(43);
const CODES = 150;
const DUPLICATED_CODES = 30; // of the CODES, these are sent twice at once
const CHAINS = 20;
const REFRESHES_PER_CHAIN = 30;
const CODE_WORKERS = 6;
const KILL_AFTER_ANSWERS = 250;

interface Seeded {
  clientId: string;
  clientSecret: string;
  codes: string[];
  refreshTokens: string[];
}

/** A user, a client, a grant, codes and refresh tokens, written through src/ before the server starts. */
async function seed(url: string): Promise<Seeded> {
  const runtime = await createRuntime(loadConfig({ DATABASE_URL: url, TESSERA_RATE_LIMITS: 'false' }));
  try {
    const { ctx } = runtime;
    const user = await seedUser(ctx);
    const { client, clientSecret } = await seedClient(ctx, { redirectUris: [REDIRECT] });
    const grant = await ctx.store.transaction((tx) => saveAuthorization(tx, { userId: user.id, clientId: client.id, scopes: ['project:read'], narrowing: FULL_ACCESS }, ctx.now()));
    const request = validateAuthorizationParams(client, REDIRECT, {
      response_type: 'code', scope: 'project:read', code_challenge: s256(VERIFIER), code_challenge_method: 'S256',
    }, { scopes: ctx.scopes });
    const codes: string[] = [];
    for (let i = 0; i < CODES + CHAINS; i++) {
      const location = new URL(await issueCode(ctx, ctx.store, request, { userId: user.id, email: user.email, authTime: ctx.now(), amr: ['pwd'] }, grant));
      codes.push(location.searchParams.get('code')!);
    }
    const refreshTokens: string[] = [];
    for (const code of codes.splice(CODES)) {
      const response = await authorizationCodeGrant.handle(ctx, client, { code, redirect_uri: REDIRECT, code_verifier: VERIFIER }, {});
      refreshTokens.push(response.refresh_token!);
    }
    return { clientId: client.id, clientSecret: clientSecret!, codes, refreshTokens };
  } finally {
    await runtime.close();
  }
}

interface TokenAnswer {
  status: number;
  body: { access_token?: string; refresh_token?: string; error?: string };
}

for (const target of storageTargets()) {
  describe(`crash recovery (${target.name})`, () => {
    let drop: (() => Promise<void>) | undefined;
    let server: TesseraProcess | undefined;
    after(async () => {
      await server?.stop('SIGKILL');
      await drop?.();
    });

    it('honours every answer it gave after a kill -9 mid-load', async (t) => {
      const created = await target.create();
      drop = created.drop;
      const url = cliDatabaseUrl(created);
      const seeded = await seed(url);
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const authorization = basicAuth(seeded.clientId, seeded.clientSecret);
      const post = async (path: string, form: Record<string, string>): Promise<TokenAnswer> => {
        const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization }, body: new URLSearchParams(form) });
        return { status: response.status, body: (await response.json()) as TokenAnswer['body'] };
      };

      const env = { DATABASE_URL: url, PORT: String(port), TESSERA_RATE_LIMITS: 'false', LOG_LEVEL: 'warn' };
      server = await startTesseraProcess(env, { until: 'ready' });

      // The load. Every request is counted when sent and when its whole answer has arrived.
      const figures = { sent: 0, answered: 0, retried: 0, inFlightAtKill: 0, inFlight: 0, killed: false };
      const killTessera = () => {
        figures.killed = true;
        figures.inFlightAtKill = figures.inFlight;
        server!.child.kill('SIGKILL');
      };
      /**
       * The answer, or why there is none: the load had stopped, the server died before answering, or
       * it answered 503 `temporarily_unavailable` (overloaded: no database connection free in time),
       * which promises nothing either way and asks for a retry.
       */
      async function tokenRequest(form: Record<string, string>): Promise<TokenAnswer | 'not sent' | 'lost' | 'retry'> {
        if (figures.killed) return 'not sent';
        figures.sent += 1;
        figures.inFlight += 1;
        try {
          const answer = await post('/oauth/token', form);
          figures.answered += 1;
          if (figures.answered >= KILL_AFTER_ANSWERS && !figures.killed) killTessera();
          if (answer.status === 503 && answer.body.error === 'temporarily_unavailable') {
            figures.retried += 1;
            return 'retry';
          }
          return answer;
        } catch {
          return 'lost';
        } finally {
          figures.inFlight -= 1;
        }
      }

      const codeAnswers = new Map<string, TokenAnswer[]>();
      const codesLost = new Set<string>();
      const exchange = async (code: string) => {
        const answer = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: VERIFIER });
        if (answer === 'lost' || answer === 'retry') codesLost.add(code);
        else if (answer !== 'not sent') codeAnswers.set(code, [...(codeAnswers.get(code) ?? []), answer]);
      };
      const queue = seeded.codes.map((code, index) => (index < DUPLICATED_CODES ? () => Promise.all([exchange(code), exchange(code)]) : () => exchange(code)));
      const codeWorker = async () => {
        for (let task = queue.shift(); task && !figures.killed; task = queue.shift()) await task();
      };

      const chainAnswers: TokenAnswer[][] = seeded.refreshTokens.map(() => []);
      /** The last refresh token each chain was handed (seeded, or from its last answered refresh). */
      const lastRefresh = [...seeded.refreshTokens];
      const chain = async (index: number) => {
        for (let step = 0; step < REFRESHES_PER_CHAIN; step++) {
          const answer = await tokenRequest({ grant_type: 'refresh_token', refresh_token: lastRefresh[index]! });
          if (answer === 'retry') continue;
          if (typeof answer === 'string') return;
          chainAnswers[index]!.push(answer);
          if (answer.status !== 200) return;
          lastRefresh[index] = answer.body.refresh_token!;
        }
      };

      await Promise.all([...Array.from({ length: CODE_WORKERS }, codeWorker), ...seeded.refreshTokens.map((_token, index) => chain(index))]);
      assert.ok(figures.killed, `the load ended (${figures.answered} answers) before the kill`);
      await server.exited;

      // Before the restart: what the load saw is consistent.
      for (const [code, answers] of codeAnswers) {
        assert.ok(answers.filter((answer) => answer.status === 200).length <= 1, `code ${code.slice(0, 10)}… answered 200 twice`);
        for (const answer of answers) assert.ok(answer.status === 200 || answer.body.error === 'invalid_grant', `code exchange answered ${answer.status}`);
      }
      for (const answers of chainAnswers) for (const answer of answers) assert.equal(answer.status, 200, `a refresh answered ${JSON.stringify(answer.body)}`);

      // The database holds no half-written rotation, token or code redemption.
      const db = openDatabase(url);
      try {
        await assertNothingHalfWritten(db.kysely);
      } finally {
        await db.close();
      }

      server = await startTesseraProcess(env, { until: 'ready' });

      // Every access token handed out still works, unless its code was (deliberately) sent twice:
      // the second redemption revokes what the first one issued.
      const duplicated = new Set(seeded.codes.slice(0, DUPLICATED_CODES));
      const accessTokens = [
        ...[...codeAnswers].filter(([code]) => !duplicated.has(code)).flatMap(([, answers]) => answers),
        ...chainAnswers.flat(),
      ].flatMap((answer) => (answer.status === 200 ? [answer.body.access_token!] : []));
      for (const token of accessTokens) {
        const introspection = await post('/oauth/introspect', { token });
        assert.equal(introspection.status, 200);
        assert.equal((introspection.body as { active?: boolean }).active, true, 'an access token handed out before the crash is no longer active');
      }

      // Every chain resumes from the last refresh token it was handed. A rotation the kill
      // interrupted either never committed, or committed with its successor sealed (grace replay).
      const check = openDatabase(url);
      let rotatedBeforeKill = 0;
      try {
        for (const token of lastRefresh) {
          const row = await check.kysely.selectFrom('refresh_tokens').select('rotated_at').where('token_hash', '=', hashToken(token)).executeTakeFirstOrThrow();
          if (row.rotated_at !== null) rotatedBeforeKill += 1;
        }
      } finally {
        await check.close();
      }
      for (const token of lastRefresh) {
        const refreshed = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: token });
        assert.equal(refreshed.status, 200, `a chain could not resume: ${JSON.stringify(refreshed.body)}`);
      }

      // No code that was answered with tokens can be redeemed again.
      const redeemed = [...codeAnswers].filter(([, answers]) => answers.some((answer) => answer.status === 200)).map(([code]) => code);
      for (const code of redeemed) {
        const again = await post('/oauth/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: VERIFIER });
        assert.equal(again.status, 400);
        assert.equal(again.body.error, 'invalid_grant');
      }
      // Codes never answered with tokens (lost in the kill, or never sent): redeemable exactly once
      // if no redemption of theirs committed.
      let lostButCommitted = 0;
      for (const code of seeded.codes.filter((code) => !redeemed.includes(code))) {
        const answer = await post('/oauth/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: VERIFIER });
        if (answer.status !== 200) {
          assert.ok(codesLost.has(code) || codeAnswers.has(code), 'a code never sent was already consumed');
          if (codesLost.has(code)) lostButCommitted += 1;
        }
        assert.ok(answer.status === 200 || answer.body.error === 'invalid_grant', JSON.stringify(answer.body));
        const replay = await post('/oauth/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: VERIFIER });
        assert.equal(replay.body.error, 'invalid_grant');
      }

      await server.stop('SIGTERM');
      const summary =
        `crash (${target.name}): ${figures.sent} requests sent, ${figures.answered} answered (${figures.retried} with 503, try again), ${figures.inFlightAtKill} in flight at the kill; ` +
        `after restart: ${accessTokens.length} access tokens active, ${lastRefresh.length} chains resumed ` +
        `(${rotatedBeforeKill} had an interrupted rotation committed), ${redeemed.length} answered codes refused, ` +
        `${codesLost.size} code exchanges lost in the kill or answered 503 (${lostButCommitted} had committed)`;
      t.diagnostic(summary);
    });
  });
}
