/** Protocol rules that need no database or HTTP: token formats, scopes, PKCE, redirect URIs, client credentials, config. */
import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, loadFrontConfig } from '../../packages/server/src/config.js';
import { safeReturnTo } from '../../packages/server/src/http/session.js';
import { readClientCredentials } from '../../packages/server/src/core/oauth/client-auth.js';
import { OAuthError } from '../../packages/server/src/core/oauth/errors.js';
import { s256, validateChallenge, verifyCodeVerifier } from '../../packages/server/src/core/oauth/pkce.js';
import { appendParams, redirectUriMatches } from '../../packages/server/src/core/oauth/redirect-uri.js';
import { boundScopes, parseScope, scopeSatisfies, validateRequestedScope } from '../../packages/server/src/core/oauth/scopes.js';
import { describeScopes, platformScopes, SUPPORTED_SCOPES } from '../../packages/server/src/platform/scopes.js';
import { seal, unseal } from '../../packages/server/src/core/crypto/seal.js';
import { base62, constantTimeEqual, generateToken, hashToken, parseToken, scanningPatterns, tokenRowId, TOKEN_PREFIXES, withChecksum } from '../../packages/server/src/core/crypto/token-formats.js';
import { secureRandomBytes } from '../../packages/server/src/core/crypto/random.js';
import { randomBody } from '../support/tokens.js';

const oauthError = (code: string) => (error: unknown) => error instanceof OAuthError && error.code === code;

describe('token formats', () => {
  it('prefixes each kind and carries 256 random bits and a checksum', () => {
    for (const kind of ['accessToken', 'refreshToken', 'personalApiKey', 'authorizationCode', 'clientSecret'] as const) {
      const token = generateToken(kind);
      assert.ok(token.startsWith(TOKEN_PREFIXES[kind]));
      const locatorLength = kind === 'accessToken' || kind === 'refreshToken' ? 22 : 0;
      assert.equal(token.length, TOKEN_PREFIXES[kind].length + locatorLength + 43 + 6);
      assert.equal(parseToken(token), kind);
    }
    assert.equal(new Set(Array.from({ length: 1000 }, () => generateToken('accessToken'))).size, 1000);
  });

  it('locates access and refresh tokens by an id that sorts by issue time', () => {
    const start = Date.UTC(2026, 10, 23);
    const tokens = Array.from({ length: 200 }, (_, i) => generateToken(i % 2 ? 'accessToken' : 'refreshToken', start + i * 7));
    const ids = tokens.map(tokenRowId);
    assert.deepEqual([...ids].sort(), ids, 'later tokens have larger ids');
    for (const [index, token] of tokens.entries()) {
      assert.equal(ids[index], token.slice(4, 4 + 22), 'the id is the locator after the prefix');
      assert.ok(!hashToken(token).includes(ids[index]!));
    }
    // Within one millisecond the random part keeps ids apart.
    assert.equal(new Set(Array.from({ length: 1000 }, () => tokenRowId(generateToken('refreshToken', start)))).size, 1000);
  });

  it('accepts access and refresh tokens issued before locators, found by their hash', () => {
    const withoutLocator = randomBody();
    assert.equal(parseToken(withChecksum('pha_' + withoutLocator)), 'accessToken');
    const legacyRefresh = withChecksum('phr_' + withoutLocator);
    assert.equal(parseToken(legacyRefresh), 'refreshToken');
    assert.equal(tokenRowId(legacyRefresh), hashToken(legacyRefresh));
    // Only access and refresh tokens carry a locator: any other kind with one is not a token.
    const withLocator = generateToken('accessToken').slice(4, -6);
    assert.equal(parseToken(withChecksum(TOKEN_PREFIXES.personalApiKey + withLocator)), undefined);
    assert.equal(parseToken(withChecksum(TOKEN_PREFIXES.clientSecret + withLocator)), undefined);
  });

  it('refuses any one-character change through the checksum', () => {
    const token = generateToken('accessToken');
    for (let i = 4; i < token.length; i++) {
      const changed = token.slice(0, i) + (token[i] === 'a' ? 'b' : 'a') + token.slice(i + 1);
      assert.equal(parseToken(changed), undefined, `position ${i}`);
    }
    assert.equal(parseToken('phr_' + token.slice(4)), undefined, 'a different prefix fails the checksum');
    for (const junk of [undefined, null, 42, '', 'pha_', 'pha_' + 'a'.repeat(49), token + 'x', ' ' + token]) assert.equal(parseToken(junk), undefined);
  });

  it('hashes with SHA-256 and compares in constant time', () => {
    assert.match(hashToken('x'), /^[0-9a-f]{64}$/);
    assert.equal(constantTimeEqual('abc', 'abc'), true);
    assert.equal(constantTimeEqual('abc', 'abd'), false);
    assert.equal(constantTimeEqual('abc', 'abcd'), false);
  });

  it('gives scanners patterns that match only well-formed tokens', () => {
    const patterns = scanningPatterns().map((p) => new RegExp(p.regex));
    const token = generateToken('refreshToken');
    assert.ok(patterns.some((p) => p.test(`leaked: ${token} in a file`)));
    assert.ok(!patterns.some((p) => p.test('phr_short')));
  });

  it('seals a value so only the token it was sealed under opens it', () => {
    const sealed = seal('phr_token', 'purpose', 'secret body');
    assert.equal(unseal('phr_token', 'purpose', sealed), 'secret body');
    assert.throws(() => unseal('phr_other', 'purpose', sealed));
    assert.throws(() => unseal('phr_token', 'other purpose', sealed));
  });

  it('opens values sealed under a key from node\'s own HKDF, so values sealed before stay readable', () => {
    const key = Buffer.from(hkdfSync('sha256', 'phr_token', 'tessera', 'purpose', 32));
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update('secret body', 'utf8'), cipher.final()]);
    const sealed = [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url')).join('.');
    assert.equal(unseal('phr_token', 'purpose', sealed), 'secret body');
  });

  it('writes bytes as their base-62 number, zero-padded, as BigInt arithmetic would', () => {
    const samples = [new Uint8Array(32), new Uint8Array(32).fill(0xff), Uint8Array.of(0, 0, 0, 61), Uint8Array.of(0xff, 0xff, 0xff, 0xff)];
    for (let i = 0; i < 500; i++) samples.push(randomBytes(i % 2 ? 32 : 4).fill(0, 0, i % 5));
    for (const bytes of samples) {
      const length = bytes.length === 4 ? 6 : 43;
      assert.equal(base62(bytes, length), bigintBase62(BigInt('0x' + Buffer.from(bytes).toString('hex')), length));
    }
  });

  it('hands out every pooled random byte once', () => {
    const draws = Array.from({ length: 2000 }, () => secureRandomBytes(32).toString('hex'));
    assert.equal(new Set(draws).size, draws.length);
    assert.equal(secureRandomBytes(5000).length, 5000);
  });
});

function bigintBase62(value: bigint, length: number): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (; value > 0n; value /= 62n) out = alphabet[Number(value % 62n)] + out;
  return out.padStart(length, '0');
}

describe('scopes', () => {
  it('has read and write scopes for every object plus OpenID scopes, each described', () => {
    for (const object of ['organization', 'project', 'annotation', 'event_definition', 'query', 'user']) {
      assert.ok(SUPPORTED_SCOPES.includes(`${object}:read`) && SUPPORTED_SCOPES.includes(`${object}:write`));
    }
    for (const scope of ['openid', 'profile', 'email']) assert.ok(SUPPORTED_SCOPES.includes(scope));
  });

  it('lets write satisfy read, never the reverse', () => {
    assert.ok(scopeSatisfies(['project:write'], 'project:read'));
    assert.ok(!scopeSatisfies(['project:read'], 'project:write'));
    assert.ok(!scopeSatisfies(['organization:write'], 'project:read'));
  });

  it('bounds held scopes by a lower ceiling, turning a write scope it only lets read into the read scope', () => {
    assert.deepEqual(boundScopes(['openid', 'annotation:write', 'project:read', 'query:read'], ['openid', 'annotation:read', 'project:write']), ['openid', 'annotation:read', 'project:read']);
    assert.deepEqual(boundScopes(['annotation:write'], ['project:read']), []);
  });

  it('refuses unknown scopes and scopes beyond the client ceiling with invalid_scope', () => {
    assert.throws(() => validateRequestedScope(['project:read', 'admin'], null, platformScopes), oauthError('invalid_scope'));
    assert.throws(() => validateRequestedScope(['project:write'], ['project:read'], platformScopes), oauthError('invalid_scope'));
    assert.throws(() => validateRequestedScope([], null, platformScopes), oauthError('invalid_scope'));
    assert.deepEqual(validateRequestedScope(['project:read'], ['project:write'], platformScopes), ['project:read']);
  });

  it('parses scope strings and describes them in plain words without repeating read under write', () => {
    assert.deepEqual(parseScope(' project:read  project:read annotation:write '), ['project:read', 'annotation:write']);
    const lines = describeScopes(['annotation:read', 'annotation:write', 'openid']);
    assert.deepEqual(lines.map((l) => l.scope), ['annotation:write', 'openid']);
    assert.match(lines[0]!.description, /annotations/);
  });
});

describe('PKCE', () => {
  it('requires S256 and refuses plain', () => {
    const challenge = s256('v'.repeat(43));
    assert.equal(validateChallenge(challenge, 'S256'), challenge);
    assert.throws(() => validateChallenge(challenge, 'plain'), oauthError('invalid_request'));
    assert.throws(() => validateChallenge(challenge, undefined), oauthError('invalid_request'));
    assert.throws(() => validateChallenge(undefined, 'S256'), oauthError('invalid_request'));
    assert.throws(() => validateChallenge('too-short', 'S256'), oauthError('invalid_request'));
  });

  it('checks the verifier shape (RFC 7636 §4.1) and its hash', () => {
    const verifier = 'a-Z_0.9~'.repeat(6);
    verifyCodeVerifier(verifier, s256(verifier));
    assert.throws(() => verifyCodeVerifier('a'.repeat(42), s256('a'.repeat(42))), oauthError('invalid_grant'));
    assert.throws(() => verifyCodeVerifier('a'.repeat(129), s256('a'.repeat(129))), oauthError('invalid_grant'));
    assert.throws(() => verifyCodeVerifier('a'.repeat(42) + '!', s256('a'.repeat(42) + '!')), oauthError('invalid_grant'));
    assert.throws(() => verifyCodeVerifier('b'.repeat(43), s256('a'.repeat(43))), oauthError('invalid_grant'));
  });
});

describe('redirect URI matching', () => {
  it('matches exactly', () => {
    const registered = 'https://app.example/callback';
    assert.ok(redirectUriMatches(registered, registered));
    for (const requested of [
      'https://app.example/callback/',
      'https://app.example/callback?x=1',
      'https://app.example/callback#x',
      'https://APP.example/callback',
      'https://app.example/Callback',
      'https://app.example/callbackx',
      'https://app.example.evil/callback',
      'https://user@app.example/callback',
      'http://app.example/callback',
      'https://app.example:8443/callback',
    ]) {
      assert.ok(!redirectUriMatches(registered, requested), requested);
    }
  });

  it('lets a registered loopback URI match any port (RFC 8252 §7.3)', () => {
    for (const host of ['127.0.0.1', '[::1]', 'localhost']) {
      const registered = `http://${host}/cb`;
      assert.ok(redirectUriMatches(registered, `http://${host}:49152/cb`), host);
      assert.ok(redirectUriMatches(`http://${host}:3000/cb`, `http://${host}:49152/cb`), host);
      assert.ok(!redirectUriMatches(registered, `http://${host}:49152/other`), host);
      assert.ok(!redirectUriMatches(registered, `https://${host}:49152/cb`), host);
      assert.ok(!redirectUriMatches(registered, `http://user@${host}:49152/cb`), host);
      assert.ok(!redirectUriMatches(registered, `http://${host}:49152/cb#f`), host);
    }
    assert.ok(!redirectUriMatches('http://127.0.0.1/cb', 'http://localhost:5000/cb'));
    assert.ok(!redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.2:5000/cb'));
  });

  it('keeps a registered query when adding response parameters', () => {
    assert.equal(appendParams('https://app.example/cb?tenant=1', { code: 'c', state: undefined }), 'https://app.example/cb?tenant=1&code=c');
  });
});

describe('client credentials', () => {
  const basic = (value: string) => 'Basic ' + Buffer.from(value).toString('base64');

  it('reads client_secret_basic with form-urlencoded id and secret (RFC 6749 §2.3.1)', () => {
    const credentials = readClientCredentials(basic('pca_1:p%40ss+word%3A'), {});
    assert.deepEqual(credentials, { clientId: 'pca_1', clientSecret: 'p@ss word:', method: 'client_secret_basic' });
  });

  it('reads client_secret_post and none', () => {
    assert.deepEqual(readClientCredentials(undefined, { client_id: 'a', client_secret: 'b' }), { clientId: 'a', clientSecret: 'b', method: 'client_secret_post' });
    assert.deepEqual(readClientCredentials(undefined, { client_id: 'a' }), { clientId: 'a', clientSecret: undefined, method: 'none' });
  });

  it('refuses two methods at once and malformed Basic credentials', () => {
    assert.throws(() => readClientCredentials(basic('a:b'), { client_secret: 'b' }), oauthError('invalid_request'));
    assert.throws(() => readClientCredentials(basic('a:b'), { client_id: 'other' }), oauthError('invalid_request'));
    assert.throws(() => readClientCredentials(basic('no-colon'), {}), oauthError('invalid_client'));
    assert.throws(() => readClientCredentials(basic('%E0%A4%A:b'), {}), oauthError('invalid_client'));
  });
});

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.issuer, 'http://localhost:8080');
    assert.equal(config.databaseUrl, 'sqlite:./data/tessera.sqlite');
    assert.deepEqual(config.ttl, { authorizationCode: 600, accessToken: 3600, refreshToken: 2592000, session: 1209600, idToken: 3600 });
    assert.equal(config.refreshReuseGraceSeconds, 120);
    assert.equal(config.redisUrl, undefined);
  });

  it('explains bad values', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty' }), ConfigError);
    assert.throws(() => loadConfig({ TESSERA_ISSUER: 'not a url' }), ConfigError);
    assert.throws(() => loadConfig({ TESSERA_ISSUER: 'https://a.example/?q=1' }), ConfigError);
    assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), ConfigError);
    assert.throws(() => loadConfig({ TESSERA_ISSUER: 'https://auth.example' }), /TESSERA_SECRET_KEY/);
    assert.throws(() => loadConfig({ TESSERA_SIGNUP: 'maybe' }), ConfigError);
  });

  it('trusts X-Forwarded-For only from listed proxy addresses or CIDR ranges, never from anyone', () => {
    assert.deepEqual(loadConfig({}).trustProxy, []);
    assert.deepEqual(loadConfig({ TESSERA_TRUST_PROXY: 'false' }).trustProxy, []);
    assert.deepEqual(loadConfig({ TESSERA_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8' }).trustProxy, ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
    const front = { TESSERA_ISSUER: 'https://oauth.example.com', TESSERA_REGIONS: 'us=https://us.example.com' };
    assert.deepEqual(loadFrontConfig({ ...front, TESSERA_TRUST_PROXY: '192.0.2.0/24' }).trustProxy, ['192.0.2.0/24']);
    // `true` would let any client choose the address per-IP limits see: refused, saying what to write instead.
    for (const anyone of ['true', 'TRUE', 'yes', '1']) {
      assert.throws(() => loadConfig({ TESSERA_TRUST_PROXY: anyone }), (error: unknown) => error instanceof ConfigError && /list the addresses or CIDR ranges of your proxies.*TESSERA_TRUST_PROXY=10\.0\.0\.0\/8,127\.0\.0\.1/.test(error.message));
      assert.throws(() => loadFrontConfig({ ...front, TESSERA_TRUST_PROXY: anyone }), ConfigError);
    }
    for (const bad of ['proxy.example.com', '2', '10.0.0.0/33', '10.0.0.1/8/8', '127.1', '*']) {
      assert.throws(() => loadConfig({ TESSERA_TRUST_PROXY: bad }), (error: unknown) => error instanceof ConfigError && error.message.includes(`"${bad}" is not an IP address or CIDR range`), bad);
    }
  });
});

describe('return-to paths after sign-in', () => {
  it('accepts same-site authorize and settings paths only', () => {
    assert.equal(safeReturnTo('/oauth/authorize?client_id=x'), '/oauth/authorize?client_id=x');
    assert.equal(safeReturnTo('/settings/api-keys'), '/settings/api-keys');
    for (const value of ['//evil.example', '/\\evil.example', 'https://evil.example', '/%2F%2Fevil.example', '/login', '/oauth/token', 'javascript:alert(1)', '/oauth/authorize\u0000', undefined, 42]) {
      assert.ok(safeReturnTo(value) === undefined || !/evil|javascript/.test(safeReturnTo(value)!), String(value));
    }
    assert.equal(safeReturnTo('//evil.example'), undefined);
    assert.equal(safeReturnTo('/login'), undefined);
  });
});
