/**
 * @tessera/resource-server's verifier against a small local authorization server (discovery, a
 * JWKS, an introspection endpoint that answers as a test says): JWT access tokens (RFC 9068) signed
 * here, since today's Tessera issues none yet (the tests against Tessera come with the server
 * side), and the introspection rules that need answers Tessera would not give (aud lists, another
 * iss, a missing narrowing, caching counted per request, 429). Plus the access rules.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SignJWT, type JWTPayload } from 'jose';
import { BearerError, checkOrganizationAccess, checkProjectAccess, createVerifier, scopeSatisfies, type Principal, type VerifierOptions } from '../../packages/resource-server/src/index.js';
import { closeServer, listenOnLoopback } from '../support/loopback.js';
import { signingKey, testKeys, type SigningKey } from '../support/fake-tessera.js';

const RESOURCE = 'https://api.example/mcp';
const CREDENTIALS = { clientId: 'rs:notes', clientSecret: 'sécret/with+chars' };

class AuthorizationServer {
  url = '';
  published: SigningKey[] = [];
  jwksStatus = 200;
  /** How long the introspection endpoint takes to answer. */
  introspectionDelayMs = 0;
  introspection: (token: string) => { status: number; body: unknown; headers?: Record<string, string> } = () => ({ status: 200, body: { active: false } });
  readonly hits = new Map<string, number>();
  readonly introspected: Array<{ token: string; authorization: string | undefined }> = [];
  private readonly server = createServer((request, response) => void this.handle(request, response));

  async start(): Promise<void> {
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}`;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url ?? '';
    this.hits.set(path, this.count(path) + 1);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void =>
      void response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    if (path === '/.well-known/oauth-authorization-server') {
      return send(200, { issuer: this.url, introspection_endpoint: `${this.url}/oauth/introspect`, jwks_uri: `${this.url}/jwks` });
    }
    if (path === '/jwks') return send(this.jwksStatus, { keys: this.published.map((key) => key.publicJwk) });
    if (path === '/oauth/introspect') {
      let raw = '';
      for await (const chunk of request) raw += String(chunk);
      const token = new URLSearchParams(raw).get('token')!;
      this.introspected.push({ token, authorization: request.headers.authorization });
      const answer = this.introspection(token);
      if (this.introspectionDelayMs) await new Promise((resolve) => setTimeout(resolve, this.introspectionDelayMs));
      return send(answer.status, answer.body, answer.headers);
    }
    send(404, {});
  }
}

describe('resource-server verifier', () => {
  const as = new AuthorizationServer();
  let keys: { rs256: SigningKey; es256: SigningKey; rotated: SigningKey };
  const verifierFor = (options: Partial<VerifierOptions> = {}) => createVerifier({ issuer: as.url, resource: RESOURCE, introspection: CREDENTIALS, jwksCooldownMs: 0, ...options });

  before(async () => {
    await as.start();
    const [rs256, es256, rotated] = await testKeys();
    keys = { rs256: rs256!, es256: es256!, rotated: rotated! };
  });
  beforeEach(() => {
    as.published = [keys.rs256, keys.es256];
    as.jwksStatus = 200;
    as.introspectionDelayMs = 0;
    as.hits.clear();
    as.introspected.length = 0;
  });
  after(() => as.close());

  const now = () => Math.floor(Date.now() / 1000);
  /** An RFC 9068 access token as Tessera will issue them, with any part replaced. */
  function jwt(claims: JWTPayload = {}, header: { typ?: string; kid?: string; alg?: string } = {}, key: SigningKey = keys.rs256): Promise<string> {
    const payload = {
      iss: as.url, sub: 'usr_1', aud: RESOURCE, client_id: 'pca_app', scope: 'notes:read', jti: 'at_1', iat: now(), exp: now() + 300,
      access_level: 'project', scoped_organizations: [], scoped_projects: ['prj_1'], ...claims,
    };
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey);
  }
  const refused = (status: number, code: string, description: RegExp) => (error: unknown) => {
    assert.ok(error instanceof BearerError, String(error));
    assert.deepEqual([error.status, error.code], [status, code]);
    assert.match(error.description, description);
    return true;
  };

  describe('JWT access tokens (RFC 9068)', () => {
    it('verifies signature, typ, issuer, audience and expiry, and gives the principal', async () => {
      const verifier = verifierFor();
      const exp = now() + 300;
      const principal = await verifier.verifyToken(await jwt({ exp }));
      assert.deepEqual(principal, { sub: 'usr_1', clientId: 'pca_app', scopes: ['notes:read'], accessLevel: 'project', organizationIds: [], projectIds: ['prj_1'], expiresAt: exp * 1000 } satisfies Principal);
      assert.equal((await verifier.verifyToken(await jwt({}, { typ: 'application/at+jwt' }, keys.es256))).sub, 'usr_1');
      assert.equal(as.count('/jwks'), 1, 'the keys are fetched once');
      assert.equal(as.introspected.length, 0, 'a JWT is not introspected');
    });

    const refusals: Array<[string, () => Promise<string>, RegExp]> = [
      ['a wrong typ', () => jwt({}, { typ: 'JWT' }), /not an access token \(typ must be at\+jwt\)/],
      ['no typ', () => jwt({}, { typ: undefined }), /not an access token \(typ must be at\+jwt\)/],
      ['another audience', () => jwt({ aud: 'https://other.example/api' }), /another resource/],
      ['another issuer', () => jwt({ iss: 'https://evil.example' }), /another authorization server/],
      ['an expiry in the past', () => jwt({ exp: now() - 60 }), /expired/],
      ['no client_id', () => jwt({ client_id: undefined }), /client_id claim/],
      ['no jti', () => jwt({ jti: undefined }), /jti claim/],
      ['no access level', () => jwt({ access_level: undefined }), /access level/],
      ['a bad signature', async () => { const [header, payload] = (await jwt()).split('.'); return `${header}.${payload}.${(await jwt({ sub: 'usr_2' })).split('.')[2]}`; }, /signature does not verify/],
      ['a shared-secret algorithm', () => new SignJWT({ iss: as.url, aud: RESOURCE }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new TextEncoder().encode('x'.repeat(32))), /algorithm/],
    ];
    for (const [what, token, description] of refusals) {
      it(`refuses a token with ${what}`, async () => {
        await assert.rejects(async () => verifierFor().verifyToken(await token()), refused(401, 'invalid_token', description));
      });
    }

    it('fetches the keys again for an unknown kid: a rotated key verifies, an unpublished one does not', async () => {
      const verifier = verifierFor();
      await verifier.verifyToken(await jwt());
      as.published = [keys.rs256, keys.rotated];
      assert.equal((await verifier.verifyToken(await jwt({}, {}, keys.rotated))).sub, 'usr_1');
      assert.equal(as.count('/jwks'), 2);
      const ghost = await signingKey('RS256', 'ghost');
      await assert.rejects(verifier.verifyToken(await jwt({}, {}, ghost)), refused(401, 'invalid_token', /key the authorization server does not publish/));
      assert.equal(as.count('/jwks'), 3);
    });

    it('within the cooldown, an unknown kid does not fetch the keys again', async () => {
      const verifier = verifierFor({ jwksCooldownMs: 60_000 });
      await verifier.verifyToken(await jwt());
      await assert.rejects(verifier.verifyToken(await jwt({}, {}, keys.rotated)), refused(401, 'invalid_token', /does not publish/));
      assert.equal(as.count('/jwks'), 1);
    });

    it('keeps a checked token for cacheMs but never past its expiry, and never keeps a refusal for an unknown key', async () => {
      const verifier = verifierFor({ cacheMs: 60_000 });
      const short = await jwt({ exp: now() + 1 });
      assert.equal((await verifier.verifyToken(short)).sub, 'usr_1');
      assert.equal((await verifier.verifyToken(short)).sub, 'usr_1');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await assert.rejects(verifier.verifyToken(short), refused(401, 'invalid_token', /expired/));

      const rotated = await jwt({}, {}, keys.rotated);
      await assert.rejects(verifier.verifyToken(rotated), refused(401, 'invalid_token', /does not publish/));
      as.published = [keys.rs256, keys.rotated];
      assert.equal((await verifier.verifyToken(rotated)).sub, 'usr_1', 'the keys are fetched again, not the refusal reused');
    });

    it('answers 503 when the keys cannot be read, and recovers', async () => {
      as.jwksStatus = 500;
      const verifier = verifierFor();
      await assert.rejects(async () => verifier.verifyToken(await jwt()), refused(503, 'temporarily_unavailable', /keys cannot be read/));
      as.jwksStatus = 200;
      assert.equal((await verifier.verifyToken(await jwt())).sub, 'usr_1');
    });

    it('without introspection credentials, refuses opaque tokens', async () => {
      await assert.rejects(verifierFor({ introspection: undefined }).verifyToken('pha_opaque'), refused(401, 'invalid_token', /only JWT access tokens/));
      assert.equal(as.introspected.length, 0);
    });
  });

  describe('introspection answers (RFC 7662)', () => {
    const active = (extra: Record<string, unknown> = {}) => ({
      status: 200,
      body: { active: true, iss: as.url, sub: 'usr_1', client_id: 'pca_app', scope: 'notes:read notes:write', exp: now() + 3600, iat: now(), token_type: 'Bearer', aud: RESOURCE, access_level: 'all', scoped_organizations: [], scoped_projects: [], ...extra },
    });

    it('authenticates with client_secret_basic, form-encoding the credentials (RFC 6749 §2.3.1)', async () => {
      as.introspection = () => active();
      await verifierFor().verifyToken('pha_1');
      const expected = `Basic ${Buffer.from('rs%3Anotes:s%C3%A9cret%2Fwith%2Bchars').toString('base64')}`;
      assert.deepEqual(as.introspected, [{ token: 'pha_1', authorization: expected }]);
    });

    it('checks the answer: audience list, issuer, token type, expiry and narrowing', async () => {
      const verifier = verifierFor({ cacheMs: 0 });
      const answers: Array<[Record<string, unknown>, RegExp | undefined]> = [
        [{ aud: ['https://other.example', RESOURCE] }, undefined],
        [{ aud: undefined }, undefined],
        [{ aud: ['https://other.example'] }, /another resource/],
        [{ iss: 'https://evil.example' }, /another authorization server/],
        [{ token_type: 'refresh_token' }, /not an access token/],
        [{ exp: now() - 1 }, /expired/],
        [{ exp: undefined }, /no expiry/],
        [{ access_level: 'everything' }, /access level/],
        [{ scoped_projects: 'prj_1' }, /narrowing/],
      ];
      for (const [extra, refusal] of answers) {
        as.introspection = () => active(extra);
        const checking = verifier.verifyToken('pha_1');
        if (refusal) await assert.rejects(checking, refused(401, 'invalid_token', refusal), JSON.stringify(extra));
        else assert.equal((await checking).sub, 'usr_1', JSON.stringify(extra));
      }
    });

    it('keeps answers, active and inactive, for cacheMs, and shares one request among concurrent checks', async () => {
      as.introspection = (token) => (token === 'pha_live' ? active() : { status: 200, body: { active: false } });
      const verifier = verifierFor({ cacheMs: 60_000 });
      await Promise.all(Array.from({ length: 5 }, () => verifier.verifyToken('pha_live')));
      for (let i = 0; i < 3; i += 1) await assert.rejects(verifier.verifyToken('pha_dead'), refused(401, 'invalid_token', /invalid, expired or revoked/));
      assert.deepEqual(as.introspected.map((r) => r.token), ['pha_live', 'pha_dead']);

      const uncached = verifierFor({ cacheMs: 0 });
      await uncached.verifyToken('pha_live');
      await uncached.verifyToken('pha_live');
      assert.equal(as.introspected.length, 4);
    });

    it('renews an answer in use before it is due, without making requests wait, and still refuses a revoked token within cacheMs', async () => {
      as.introspection = () => active();
      const verifier = verifierFor({ cacheMs: 400 });
      await verifier.verifyToken('pha_busy');
      await new Promise((resolve) => setTimeout(resolve, 320));
      // Revoked now; Tessera is slow to answer.
      as.introspection = () => ({ status: 200, body: { active: false } });
      as.introspectionDelayMs = 150;
      const started = Date.now();
      assert.equal((await verifier.verifyToken('pha_busy')).sub, 'usr_1', 'the answer kept, 320 ms old, is still used');
      assert.ok(Date.now() - started < 100, 'without waiting for the renewal');
      await new Promise((resolve) => setTimeout(resolve, 250));
      await assert.rejects(verifier.verifyToken('pha_busy'), refused(401, 'invalid_token', /invalid, expired or revoked/));
      assert.equal(as.introspected.length, 2, 'the renewal\'s answer is the one used');
    });

    it('answers 503 when introspection does not answer within timeoutMs, and keeps nothing', async () => {
      as.introspection = () => active();
      as.introspectionDelayMs = 300;
      const verifier = verifierFor({ timeoutMs: 100 });
      await assert.rejects(verifier.verifyToken('pha_slow'), refused(503, 'temporarily_unavailable', /introspection: no answer within 100 ms/));
      as.introspectionDelayMs = 0;
      assert.equal((await verifier.verifyToken('pha_slow')).sub, 'usr_1');
    });

    it('never keeps an answer past the token\'s expiry', async () => {
      as.introspection = () => active({ exp: now() + 1 });
      const verifier = verifierFor({ cacheMs: 60_000 });
      await verifier.verifyToken('pha_short');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      as.introspection = () => ({ status: 200, body: { active: false } });
      await assert.rejects(verifier.verifyToken('pha_short'), refused(401, 'invalid_token', /expired|invalid/));
    });

    it('answers 503 with the server\'s Retry-After when it is overloaded, and keeps nothing', async () => {
      as.introspection = () => ({ status: 429, body: { error: 'slow_down' }, headers: { 'retry-after': '7' } });
      const verifier = verifierFor({ cacheMs: 60_000 });
      await assert.rejects(verifier.verifyToken('pha_1'), (error: BearerError) => {
        refused(503, 'temporarily_unavailable', /HTTP 429/)(error);
        assert.equal(error.headers['retry-after'], '7');
        return true;
      });
      as.introspection = () => active();
      assert.equal((await verifier.verifyToken('pha_1')).sub, 'usr_1');
    });

    it('refuses a discovery document naming another issuer', async () => {
      const verifier = createVerifier({ issuer: `${as.url}/`, resource: RESOURCE, introspection: CREDENTIALS });
      await assert.rejects(verifier.verifyToken('pha_1'), (error: BearerError) => error.status === 500 && error.code === 'server_error' && /names the issuer/.test(error.description));
    });
  });

  describe('access rules', () => {
    const principal = (accessLevel: Principal['accessLevel'], organizationIds: string[] = [], projectIds: string[] = []): Principal =>
      ({ sub: 'usr_1', clientId: 'pca_app', scopes: [], accessLevel, organizationIds, projectIds, expiresAt: Date.now() + 60_000 });
    const project = { id: 'prj_1', organizationId: 'org_1' };
    const denied = (error: unknown) => error instanceof BearerError && error.status === 403 && error.code === 'access_denied' && error.headers['www-authenticate'] === undefined;

    it(':write satisfies :read, not the other way round', () => {
      assert.ok(scopeSatisfies(['project:write'], 'project:read'));
      assert.ok(!scopeSatisfies(['project:read'], 'project:write'));
      assert.ok(!scopeSatisfies(['project:write'], 'organization:read'));
    });

    it('a full grant reaches every organization and project', () => {
      checkOrganizationAccess(principal('all'), 'org_9');
      checkProjectAccess(principal('all'), project);
    });

    it('an organization grant reaches its organizations and their projects', () => {
      checkOrganizationAccess(principal('organization', ['org_1']), 'org_1');
      checkProjectAccess(principal('organization', ['org_1']), project);
      assert.throws(() => checkOrganizationAccess(principal('organization', ['org_1']), 'org_2'), denied);
      assert.throws(() => checkProjectAccess(principal('organization', ['org_2']), project), denied);
    });

    it('a project grant reaches its projects and no organization endpoint', () => {
      checkProjectAccess(principal('project', [], ['prj_1']), project);
      assert.throws(() => checkProjectAccess(principal('project', [], ['prj_2']), project), denied);
      assert.throws(() => checkOrganizationAccess(principal('project', [], ['prj_1']), 'org_1'), denied);
    });
  });
});
