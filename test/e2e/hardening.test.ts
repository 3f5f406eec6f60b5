/**
 * Security headers on every page and answer (CSP with frame-ancestors 'none', nosniff,
 * no-referrer, no caching of pages), HSTS only behind an https issuer, and a source check that no
 * secret or hash is compared with `===` (they go through constantTimeEqual or timingSafeEqual).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { s256 } from '../../packages/server/src/core/oauth/pkce.js';
import { sqliteTarget } from '../support/database.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:9999/callback';

function authorizeUrl(clientId: string, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: 'project:read',
    state: 'abc',
    code_challenge: s256('v'.repeat(43)),
    code_challenge_method: 'S256',
    ...extra,
  });
  return `/oauth/authorize?${params}`;
}

function assertFrameAndSniffProtection(response: Response, what: string): void {
  const csp = response.headers.get('content-security-policy') ?? '';
  assert.match(csp, /frame-ancestors 'none'/, `${what}: CSP ${csp}`);
  assert.match(csp, /default-src 'self'/, what);
  assert.match(csp, /script-src 'self'/, what);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, what);
  assert.equal(response.headers.get('x-frame-options'), 'DENY', what);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer', what);
}

describe('security headers (http issuer)', () => {
  let server: TestServer;
  let agent: UserAgent;
  let clientId: string;

  before(async () => {
    server = await startTestServer(sqliteTarget);
    const user = await seedUser(server.ctx);
    clientId = (await seedClient(server.ctx, { redirectUris: [REDIRECT] })).client.id;
    agent = new UserAgent(server.url);
    await agent.signIn(user.email, PASSWORD);
  });
  after(() => server.close());

  it('sends CSP frame-ancestors none, nosniff and no-referrer on pages, never cached', async () => {
    const pages: Array<[string, number]> = [
      ['/login', 200],
      ['/signup', 200],
      ['/signup/confirm?token=phsu_x', 200],
      ['/password/forgot', 200],
      ['/password/reset?token=phpr_x', 400],
      ['/', 200],
      ['/settings/security', 200],
      [authorizeUrl(clientId), 200], // the consent page
      [authorizeUrl('pca_unknown'), 400], // an authorization error page
      ['/no/such/page', 404],
    ];
    for (const [path, status] of pages) {
      const response = await agent.request(path);
      assert.equal(response.status, status, path);
      assert.match(response.headers.get('content-type') ?? '', /text\/html/, path);
      assertFrameAndSniffProtection(response, path);
      assert.equal(response.headers.get('cache-control'), 'no-store', path);
    }
    const consent = await agent.request(authorizeUrl(clientId));
    assert.match(await consent.text(), /Authorize/);
  });

  it('sends no-referrer on the redirect that carries a code, and on the consent answer', async () => {
    const page = await (await agent.request(authorizeUrl(clientId))).text();
    const decided = await agent.request('/oauth/authorize', { form: { ...UserAgent.hiddenFields(page), decision: 'allow' } });
    assert.equal(decided.status, 303);
    assert.match(decided.headers.get('location') ?? '', /code=/);
    assertFrameAndSniffProtection(decided, 'consent decision');
    const skipped = await agent.request(authorizeUrl(clientId));
    assert.equal(skipped.status, 302);
    assertFrameAndSniffProtection(skipped, 'consent skipped');
  });

  it('sends nosniff on JSON answers', async () => {
    for (const response of [
      await fetch(`${server.url}/.well-known/oauth-authorization-server`),
      await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=x' }),
    ]) {
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    }
  });

  it('sends no HSTS when the issuer is http', async () => {
    const response = await fetch(`${server.url}/login`);
    assert.equal(response.headers.get('strict-transport-security'), null);
  });

  it('sets HttpOnly, SameSite cookies', async () => {
    const response = await fetch(`${server.url}/login`);
    const cookies = response.headers.getSetCookie();
    assert.ok(cookies.length > 0);
    for (const cookie of cookies) {
      assert.match(cookie, /HttpOnly/i, cookie);
      assert.match(cookie, /SameSite=Lax/i, cookie);
      assert.doesNotMatch(cookie, /Secure/i, cookie);
    }
  });
});

describe('security headers (https issuer)', () => {
  let server: TestServer;
  before(async () => {
    // The issuer says https (a TLS proxy in front); the test talks to the plain listener behind it.
    server = await startTestServer(sqliteTarget, { TESSERA_ISSUER: 'https://auth.example.test', TESSERA_SECRET_KEY: 'k'.repeat(40) });
  });
  after(() => server.close());

  it('sends HSTS for a year with subdomains, and Secure cookies', async () => {
    const response = await fetch(`${server.url}/login`);
    assert.equal(response.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
    assertFrameAndSniffProtection(response, '/login');
    for (const cookie of response.headers.getSetCookie()) assert.match(cookie, /Secure/i, cookie);
  });
});

describe('secret comparisons', () => {
  function sourceFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? sourceFiles(path) : /\.tsx?$/.test(name) ? [path] : [];
    });
  }

  it('never compares a secret, hash, verifier, challenge or signature with === or !==', () => {
    const secretName = String.raw`[\w.]*(?:secret|hash|verifier|challenge|signature|password|csrf)\w*`;
    const comparison = new RegExp(String.raw`${secretName}\s*[!=]==\s*(?!undefined|null|'|"|\d)[\w.]+|[\w.)\]]+\s*[!=]==\s*${secretName}`, 'gi');
    const findings: string[] = [];
    for (const file of sourceFiles(fileURLToPath(new URL('../../packages/server/src', import.meta.url)))) {
      for (const [index, line] of readFileSync(file, 'utf8').split('\n').entries()) {
        if (/typeof /.test(line)) continue;
        for (const match of line.matchAll(comparison)) {
          // A URL's fragment (`url.hash`) is not a secret.
          if (/\.hash\b/.test(match[0]) && !/_hash|Hash/.test(match[0])) continue;
          if (/[!=]==\s*(undefined|null)\b/.test(match[0])) continue;
          findings.push(`${file}:${index + 1}: ${match[0]}`);
        }
      }
    }
    assert.deepEqual(findings, [], 'use constantTimeEqual (packages/server/src/core/oauth/tokens.ts) for secrets');
  });
});
