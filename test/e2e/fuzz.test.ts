/**
 * Property-based abuse of every public endpoint with fast-check: malformed, oversized, repeated,
 * nested and wrongly encoded parameters in the query, form and JSON bodies, wrong content types,
 * invalid percent-encoding and invalid UTF-8, with and without a signed-in session and CSRF token.
 * Whatever arrives, Tessera never answers 5xx, stays up, and never redirects anywhere but to
 * itself or to a redirect URI registered for the client.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { saveAuthorization } from '../../packages/server/src/core/oauth/authorizations.js';
import { FULL_ACCESS } from '../../packages/server/src/core/oauth/narrowing.js';
import { s256 } from '../../packages/server/src/core/oauth/pkce.js';
import { redirectUriMatches } from '../../packages/server/src/core/oauth/redirect-uri.js';
import { generateToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { sqliteTarget } from '../support/database.js';
import { PASSWORD, seedClient, seedUser } from '../support/seed.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';
import { UserAgent } from '../support/user-agent.js';

const RUNS_PER_ENDPOINT = Number(process.env.FUZZ_RUNS ?? 200);
const REDIRECT = 'http://127.0.0.1:9999/callback';
const PUBLIC_REDIRECT = 'http://127.0.0.1/native';
const VERIFIER = 'v'.repeat(43);

interface RawRequest {
  method: 'GET' | 'POST';
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

interface RawResponse {
  status: number;
  location: string | undefined;
}

// A connection per request: an answer the server closes the connection after cannot break the next case.
const agent = new Agent({ keepAlive: false });

function send(base: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path + (req.query ? `?${req.query}` : ''),
        headers: { ...req.headers, ...(req.body ? { 'content-length': String(req.body.length) } : {}) },
        timeout: 10_000,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, location: response.headers.location }));
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('request timed out')));
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

/** Every parameter name any endpoint reads, so fuzzed requests reach past the first check. */
const PARAMETER_NAMES = [
  'client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'nonce', 'prompt',
  'max_age', 'resource', 'required_access_level', 'project', 'response_mode', 'grant_type', 'code', 'code_verifier',
  'refresh_token', 'token', 'token_type_hint', 'client_secret', 'access_token', 'email', 'password', 'name', 'return_to',
  '_csrf', 'decision', 'access_level', 'organization_ids', 'project_ids', 'redirect_uris', 'client_name',
  'token_endpoint_auth_method', 'grant_types', 'response_types', 'logo_uri', 'client_uri', '__proto__', 'constructor',
];

/** Byte sequences that are not valid percent-encoding or not valid UTF-8 once decoded. */
const BAD_ENCODINGS = ['%', '%z', '%zz', '%C3%28', '%FF%FE', '%ED%A0%80', '%00', '%E2%82', '%C0%AF', '%%', '+%2', '%u0041'];

interface Fixture {
  clientId: string;
  clientSecret: string;
  publicClientId: string;
  csrf: string;
  cookie: string;
  accessToken: string;
}

/** encodeURIComponent that also takes lone surrogates (they become U+FFFD, as a browser would send). */
const encode = (text: string) => encodeURIComponent(text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));

function arbitraries(fixture: Fixture) {
  const interesting = fc.constantFrom(
    fixture.clientId, fixture.publicClientId, fixture.clientSecret, fixture.csrf, fixture.accessToken,
    REDIRECT, PUBLIC_REDIRECT, `${REDIRECT}/`, `${REDIRECT}?x=1`, `${REDIRECT}#f`, 'http://127.0.0.1:1234/callback',
    'http://127.0.0.1:41000/native', 'http://evil.example/callback', 'http://127.0.0.1:9999@evil.example/callback',
    'http://[::1]/native', '//evil.example', '/\\evil.example', 'javascript:alert(1)', '/oauth/authorize?x=1', '/settings',
    // Loopback only: a client id that is an https URL must never make the server fetch from elsewhere.
    'https://127.0.0.1:1/client.json', 'https://localhost/client', 'pca_unknown',
    'code', 'token', 'S256', 'plain', s256(VERIFIER), VERIFIER, 'authorization_code', 'refresh_token', 'client_credentials',
    'openid', 'project:read', 'openid profile email project:read', 'none', 'login', 'consent', 'allow', 'deny', 'all',
    'organization', 'project', 'query', 'fragment', '-1', '99999999999999999999', '0', '',
    generateToken('authorizationCode'), generateToken('refreshToken'), generateToken('accessToken'), generateToken('clientSecret'),
    'pha_' + 'A'.repeat(49), 'a'.repeat(4096),
  );
  const value = fc.oneof(
    { weight: 4, arbitrary: interesting },
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((length) => 'x'.repeat(length)) },
  );
  // How one value is written into a query or form: properly, raw, or broken.
  const encoded = fc.oneof(
    { weight: 5, arbitrary: value.map(encode) },
    // Raw: latin1 bytes as they are (invalid UTF-8 once decoded); only what HTTP cannot carry is escaped.
    { weight: 1, arbitrary: value.map((text) => text.replace(/[^\u0021-\u00ff]|[&=#%+]/g, encode)) },
    { weight: 2, arbitrary: fc.tuple(value.map(encode), fc.constantFrom(...BAD_ENCODINGS)).map(([text, bad]) => text + bad) },
  );
  const name = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...PARAMETER_NAMES) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }, { weight: 1, arbitrary: fc.constantFrom('a[b]', 'a[]', 'a.b', '%zz', '') });

  /** Starts from a plausible request (`base`) and drops, replaces, repeats and adds parameters. */
  const pairs = (base: Record<string, string>) =>
    fc
      .tuple(
        fc.array(fc.constantFrom('keep', 'keep', 'drop', 'replace', 'repeat'), { minLength: Object.keys(base).length, maxLength: Object.keys(base).length }),
        fc.array(encoded, { minLength: Object.keys(base).length, maxLength: Object.keys(base).length }),
        fc.array(fc.tuple(name, encoded), { maxLength: 4 }),
      )
      .map(([actions, replacements, extra]) => {
        const out: Array<[string, string]> = [];
        Object.entries(base).forEach(([key, text], index) => {
          const action = actions[index];
          if (action === 'drop') return;
          out.push([key, action === 'replace' ? replacements[index]! : encode(text)]);
          if (action === 'repeat') out.push([key, replacements[index]!]);
        });
        return [...out, ...extra.map(([key, text]) => [encode(key), text] as [string, string])];
      });
  const joined = (list: Array<[string, string]>) => list.map(([key, text]) => `${key}=${text}`).join('&');

  const jsonValue = fc.oneof(value, fc.array(value, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 3 }), fc.integer(), fc.boolean(), fc.constant(null));
  const jsonBody = (base: Record<string, string>) =>
    fc.oneof(
      fc.tuple(fc.dictionary(name, jsonValue, { maxKeys: 5 }), fc.boolean()).map(([extra, withBase]) => JSON.stringify(withBase ? { ...base, ...extra } : extra)),
      fc.jsonValue().map((json) => JSON.stringify(json)),
      fc.constantFrom('{', '{"a":', '[1,2', '"unterminated', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', 'null', '{"client_id":{"$ne":1}}'),
    );

  const contentType = fc.constantFrom(
    'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'application/json', 'application/json', 'text/plain',
    'multipart/form-data; boundary=xyz', 'application/x-www-form-urlencoded; charset=latin1', 'application/json; charset=utf-16',
    'application/xml', 'application/jwt', '*/*', 'garbage;;;=', undefined,
  );

  const body = (base: Record<string, string>) =>
    fc.oneof(
      { weight: 5, arbitrary: pairs(base).map((list) => Buffer.from(joined(list))) },
      { weight: 2, arbitrary: jsonBody(base).map((text) => Buffer.from(text)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
      { weight: 1, arbitrary: fc.tuple(pairs(base), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([list, bytes]) => Buffer.concat([Buffer.from(joined(list) + '&state='), Buffer.from(bytes)])) },
      { weight: 1, arbitrary: fc.constant(Buffer.alloc(70_000, 'a')) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    );

  const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
  const authorization = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constant(basic(fixture.clientId, fixture.clientSecret)) },
    { weight: 1, arbitrary: fc.tuple(value, value).map(([id, secret]) => basic(id, secret)) },
    { weight: 1, arbitrary: fc.constant(basic('%zz', '%')) },
    { weight: 1, arbitrary: fc.constant(`Bearer ${fixture.accessToken}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((text) => `Bearer ${text.replace(/[^\x20-\x7e]/g, '')}`) },
    { weight: 1, arbitrary: fc.constantFrom('Basic', 'Basic !!!', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Digest x', 'Bearer') },
  );
  const cookie = fc.constantFrom(undefined, fixture.cookie, fixture.cookie, 'tessera_session=phss_garbage; tessera_csrf=x', 'tessera_session=%zz');

  return {
    request(method: 'GET' | 'POST', path: string, base: Record<string, string>): fc.Arbitrary<RawRequest> {
      return fc.record({ query: pairs(method === 'GET' ? base : {}).map(joined), body: method === 'POST' ? body(base) : fc.constant(undefined), contentType, authorization, cookie }).map(
        ({ query, body: content, contentType: type, authorization: auth, cookie: jar }) => {
          const headers: Record<string, string> = {};
          if (type && content) headers['content-type'] = type;
          if (auth) headers.authorization = auth;
          if (jar) headers.cookie = jar;
          return { method, path, query, headers, body: content };
        },
      );
    },
  };
}

describe('fuzzing every endpoint', () => {
  let server: TestServer;
  let fixture: Fixture;
  let registered: string[];

  before(async () => {
    // Secret-scanning keys from a closed loopback port: the fuzzer must never reach out of the machine.
    server = await startTestServer(sqliteTarget, { TESSERA_SECRET_SCANNING_KEYS_URL: `http://127.0.0.1:${await freePort()}/keys` });
    const user = await seedUser(server.ctx);
    const confidential = await seedClient(server.ctx, { redirectUris: [REDIRECT] });
    const publicClient = await seedClient(server.ctx, { redirectUris: [PUBLIC_REDIRECT], isPublic: true, name: 'Native App' });
    registered = [REDIRECT, PUBLIC_REDIRECT];
    // An existing grant lets a valid authorization request reach the redirect that carries a code.
    await server.ctx.store.transaction((tx) => saveAuthorization(tx, { userId: user.id, clientId: confidential.client.id, scopes: ['project:read'], narrowing: FULL_ACCESS }, server.ctx.now()));

    const browser = new UserAgent(server.url);
    const csrf = await browser.signIn(user.email, PASSWORD);

    const code = await fetch(
      `${server.url}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: confidential.client.id, redirect_uri: REDIRECT, scope: 'project:read', code_challenge: s256(VERIFIER), code_challenge_method: 'S256' })}`,
      { headers: { cookie: browser.cookieHeader() }, redirect: 'manual' },
    );
    const exchanged = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', code: new URL(code.headers.get('location')!).searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: VERIFIER, client_id: confidential.client.id, client_secret: confidential.clientSecret! }),
    });
    const { access_token } = (await exchanged.json()) as { access_token: string };
    fixture = { clientId: confidential.client.id, clientSecret: confidential.clientSecret!, publicClientId: publicClient.client.id, csrf, cookie: browser.cookieHeader(), accessToken: access_token };
  });
  after(async () => {
    agent.destroy();
    await server.close();
  });

  function endpoints(): Array<[RawRequest['method'], string, Record<string, string>]> {
    const authorization = {
      response_type: 'code', client_id: fixture.clientId, redirect_uri: REDIRECT, scope: 'project:read', state: 'xyz',
      code_challenge: s256(VERIFIER), code_challenge_method: 'S256',
    };
    const client = { client_id: fixture.clientId, client_secret: fixture.clientSecret };
    return [
      ['GET', '/oauth/authorize', authorization],
      ['POST', '/oauth/authorize', { ...authorization, _csrf: fixture.csrf, decision: 'allow', access_level: 'all' }],
      ['POST', '/oauth/token', { ...client, grant_type: 'authorization_code', code: generateToken('authorizationCode'), redirect_uri: REDIRECT, code_verifier: VERIFIER }],
      ['POST', '/oauth/revoke', { ...client, token: fixture.accessToken, token_type_hint: 'access_token' }],
      ['POST', '/oauth/introspect', { ...client, token: fixture.accessToken }],
      ['GET', '/oauth/userinfo', {}],
      ['POST', '/oauth/userinfo', { access_token: fixture.accessToken }],
      ['POST', '/oauth/register', { client_name: 'Fuzzed', redirect_uris: 'http://127.0.0.1/cb', token_endpoint_auth_method: 'none' }],
      ['GET', '/login', { return_to: '/oauth/authorize?x=1' }],
      ['POST', '/login', { _csrf: fixture.csrf, email: 'nobody@example.com', password: 'wrong password', return_to: '/settings' }],
      ['GET', '/signup', { return_to: '/' }],
      ['POST', '/signup', { _csrf: fixture.csrf, email: 'fuzz@example.com', password: 'short', name: 'Fuzz', return_to: '/' }],
      ['GET', '/verify-email', { token: generateToken('emailVerification') }],
      ['POST', '/verify-email', { _csrf: fixture.csrf, token: generateToken('emailVerification') }],
      ['GET', '/.well-known/oauth-authorization-server', {}],
      ['GET', '/.well-known/openid-configuration', {}],
      ['GET', '/.well-known/jwks.json', {}],
      ['POST', '/api/alerts/github', {}],
    ];
  }

  /** A redirect is fine when it stays on Tessera or lands on a redirect URI registered for a client. */
  function allowedRedirect(location: string): boolean {
    const target = new URL(location, server.url);
    if (target.origin === new URL(server.url).origin) return true;
    return registered.some((uri) => redirectUriMatches(uri, target.origin + target.pathname));
  }

  it(`answers ${RUNS_PER_ENDPOINT} fuzzed requests per endpoint without a 5xx or a foreign redirect`, async (t) => {
    const { request } = arbitraries(fixture);
    const statuses = new Map<number, number>();
    let sent = 0;
    for (const [method, path, base] of endpoints()) {
      await fc.assert(
        fc.asyncProperty(request(method, path, base), async (raw) => {
          sent += 1;
          const response = await send(server.url, raw);
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          assert.ok(response.status < 500, `${method} ${path} answered ${response.status}`);
          if (response.location !== undefined) assert.ok(allowedRedirect(response.location), `${method} ${path} redirected to ${response.location}`);
        }),
        { numRuns: RUNS_PER_ENDPOINT, includeErrorInReport: true },
      );
    }
    const alive = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
    assert.equal(alive.status, 200, 'the server is still up');
    t.diagnostic(`fuzz: ${sent} requests to ${endpoints().length} endpoints; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
  });
});
