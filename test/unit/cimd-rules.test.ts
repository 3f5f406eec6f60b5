/** Client ID Metadata Document rules that need no network: client id URLs, the address policy, document validation, cache lifetimes, blocklist patterns. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../packages/server/src/config.js';
import { isFetchableAddress } from '../../packages/server/src/core/clients/cimd/address-policy.js';
import { parseBlockPattern } from '../../packages/server/src/core/clients/cimd/blocklist.js';
import { cacheLifetimeSeconds } from '../../packages/server/src/core/clients/cimd/cache.js';
import { parseClientIdUrl } from '../../packages/server/src/core/clients/cimd/client-id-url.js';
import { clientFromDocument } from '../../packages/server/src/core/clients/cimd/document.js';
import { OAuthError } from '../../packages/server/src/core/oauth/errors.js';
import { platformScopes } from '../../packages/server/src/platform/scopes.js';

const invalidClient = (error: unknown) => error instanceof OAuthError && error.code === 'invalid_client';

describe('CIMD client id URLs', () => {
  it('accepts https URLs with a path, in canonical form', () => {
    for (const url of ['https://app.example.com/client.json', 'https://app.example.com:8443/oauth/metadata', 'https://127.0.0.1/x', 'https://[::1]:9000/c', 'https://example.com/a%20b']) {
      assert.equal(parseClientIdUrl(url).href, url);
    }
  });

  it('refuses everything else', () => {
    const refused: Array<[string, RegExp]> = [
      ['http://app.example.com/client.json', /https/],
      ['HTTPS://app.example.com/client.json', /https/],
      ['https://app.example.com', /path/],
      ['https://app.example.com/', /path/],
      ['https://user@app.example.com/c', /userinfo/],
      ['https://user:pw@app.example.com/c', /userinfo/],
      ['https://@app.example.com/c', /userinfo/],
      ['https://app.example.com/c#frag', /fragment/],
      ['https://app.example.com/c#', /fragment/],
      ['https://app.example.com/c?x=1', /query/],
      ['https://app.example.com/c?', /query/],
      ['https://app.example.com/a/./c', /segments/],
      ['https://app.example.com/a/../c', /segments/],
      ['https://app.example.com/a/..', /segments/],
      ['https://app.example.com/a/%2e%2E/c', /segments/],
      ['https://app.example.com/a/.%2e', /segments/],
      ['https://app.example.com/a/%2E', /segments/],
      ['https://app.example.com/a b', /whitespace/],
      [' https://app.example.com/c', /whitespace/],
      ['https://app.example.com/c\n', /whitespace/],
      ['https://app.example.com/c\t', /whitespace/],
      ['https://app.example.com/c\u0000', /control/],
      ['https://app.example.com/c\u007f', /control/],
      ['https://APP.example.com/c', /canonical/],
      ['https://app.example.com:443/c', /canonical/],
      ['https://app.example.com/ü', /canonical/],
      ['https://bücher.example/c', /canonical/],
      ['https://app.example.com/' + 'a'.repeat(2048), /too long/],
      ['https:///c', /path|canonical/],
      ['https://exa mple.com/c', /whitespace/],
      ['https://app.example.com./c', /trailing dot/],
      ['https://app.example.com.:8443/c', /trailing dot/],
      ['https://localhost./c', /trailing dot/],
    ];
    for (const [url, reason] of refused) {
      assert.throws(() => parseClientIdUrl(url), (error: unknown) => invalidClient(error) && reason.test((error as OAuthError).description), JSON.stringify(url));
    }
  });

  it('refuses literal IPs in odd forms: the URL parser normalizes them, so they are not canonical', () => {
    for (const url of ['https://2130706433/c', 'https://0177.0.0.1/c', 'https://0x7f.0.0.1/c', 'https://0x7f000001/c', 'https://127.1/c', 'https://[0:0:0:0:0:ffff:7f00:1]/c']) {
      assert.throws(() => parseClientIdUrl(url), invalidClient, url);
      // And what they normalize to is refused by the address policy.
      const normalized = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
      assert.equal(isFetchableAddress(normalized, { allowLoopback: false }), false, `${url} → ${normalized}`);
    }
    // Already canonical, so it parses; the address policy refuses it (an IPv4-mapped loopback address).
    const mapped = parseClientIdUrl('https://[::ffff:7f00:1]/c');
    assert.equal(isFetchableAddress(mapped.hostname.slice(1, -1), { allowLoopback: false }), false);
  });
});

describe('CIMD address policy', () => {
  const refused = [
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.0.1',
    '169.254.169.254',
    '169.254.0.1',
    '100.64.0.1',
    '100.127.255.254',
    '100.100.100.200',
    '0.0.0.0',
    '0.1.2.3',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '192.0.2.1',
    '198.51.100.1',
    '203.0.113.1',
    '198.18.0.1',
    '::1',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::7f00:1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::a00:1',
    '64:ff9b:1::1',
    'ff02::1',
    'ff05::1:3',
    '2001:db8::1',
    '2002:7f00:1::1',
    '2001::1',
    'not an address',
    '',
  ];
  const allowed = ['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:93.184.216.34', '64:ff9b::5db8:d822'];

  it('refuses every special-use address', () => {
    for (const address of refused) assert.equal(isFetchableAddress(address, { allowLoopback: false }), false, address);
  });

  it('allows public unicast addresses, also in IPv4-mapped and NAT64 form', () => {
    for (const address of allowed) assert.equal(isFetchableAddress(address, { allowLoopback: false }), true, address);
  });

  it('allows loopback, and only loopback, when configured', () => {
    for (const address of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1', '64:ff9b::7f00:1']) {
      assert.equal(isFetchableAddress(address, { allowLoopback: true }), true, address);
    }
    for (const address of refused.filter((a) => !/^(127\.|::1$|::ffff:(127|7f00)|64:ff9b::7f00)/.test(a))) {
      assert.equal(isFetchableAddress(address, { allowLoopback: true }), false, address);
    }
  });
});

describe('CIMD document validation', () => {
  const config = loadConfig({ TESSERA_PLATFORM_NAME: 'Acme Analytics' });
  const rules = { platformName: config.platformName, scopes: platformScopes };
  const ID = 'https://app.example.com/oauth/client.json';
  const valid = { client_id: ID, client_name: 'Example App', redirect_uris: ['https://app.example.com/callback', 'http://127.0.0.1/cb', 'com.example.app:/cb'] };

  it('turns a valid document into a public, unverified client without a ceiling', () => {
    const client = clientFromDocument(ID, { ...valid, logo_uri: 'https://app.example.com/logo.png', unknown_field: { nested: true } }, rules);
    assert.deepEqual(client, {
      id: ID,
      kind: 'cimd',
      name: 'Example App',
      description: null,
      logoUri: 'https://app.example.com/logo.png',
      redirectUris: valid.redirect_uris,
      isPublic: true,
      secretHash: null,
      scopeCeiling: null,
      verified: false,
      accessTokenTtl: null,
      refreshTokenTtl: null,
      idTokenSignedResponseAlg: 'RS256',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
    });
  });

  it('takes the document\'s grant_types, passing over grant types this server does not know', () => {
    const grantTypes = (value: unknown) => clientFromDocument(ID, { ...valid, grant_types: value }, rules).grantTypes;
    assert.deepEqual(grantTypes(['authorization_code']), ['authorization_code']);
    assert.deepEqual(grantTypes(['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer']), ['authorization_code', 'refresh_token']);
    // Known since the device authorization grant (RFC 8628) landed: kept like the others.
    assert.deepEqual(grantTypes(['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code']), ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code']);
    for (const refused of [['refresh_token'], ['client_credentials'], [], 'authorization_code', [42]]) {
      assert.throws(() => grantTypes(refused), invalidClient, JSON.stringify(refused));
    }
  });

  it('takes the document\'s scope as the ceiling, passing over scopes this server does not know', () => {
    assert.deepEqual(clientFromDocument(ID, { ...valid, scope: 'openid project:read' }, rules).scopeCeiling, ['openid', 'project:read']);
    assert.deepEqual(clientFromDocument(ID, { ...valid, scope: 'project:read files:write project:read' }, rules).scopeCeiling, ['project:read']);
    assert.deepEqual(clientFromDocument(ID, { ...valid, scope: 'files:write' }, rules).scopeCeiling, [], 'nothing this server knows: nothing to ask for');
    assert.throws(() => clientFromDocument(ID, { ...valid, scope: ['project:read'] }, rules), /scope as a space-separated string/);
  });

  it('accepts token_endpoint_auth_method none, public keys and a jwks_uri', () => {
    const publicKey = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' };
    for (const extra of [{ token_endpoint_auth_method: 'none' }, { jwks: { keys: [publicKey] } }, { jwks_uri: 'https://app.example.com/jwks' }]) {
      assert.equal(clientFromDocument(ID, { ...valid, ...extra }, rules).isPublic, true, JSON.stringify(extra));
    }
  });

  it('keeps logo_uri only when it follows the rule shared with apps and dynamic registration, and otherwise ignores it', () => {
    const longest = 'https://app.example.com/' + 'a'.repeat(2048 - 'https://app.example.com/'.length);
    assert.equal(clientFromDocument(ID, { ...valid, logo_uri: longest }, rules).logoUri, longest);
    const ignored = ['http://app.example.com/logo.png', 'javascript:alert(1)', 'data:image/png;base64,AA', 'not a url', 42, 'https://user:pw@app.example.com/logo.png', `${longest}a`];
    for (const logo of ignored) {
      assert.equal(clientFromDocument(ID, { ...valid, logo_uri: logo }, rules).logoUri, null, String(logo));
    }
  });

  it('holds redirect URIs to the rule shared with apps and dynamic registration: https, loopback http or private-use, no user info, 1 to 10', () => {
    const refused: Array<[unknown, RegExp]> = [
      [['http://app.example.com/callback'], /redirect URI http:\/\/app\.example\.com\/callback must use https unless it is on a loopback host/],
      [['https://user:pw@app.example.com/callback'], /must not contain a user name or password/],
      [['https://app.example.com@evil.example/callback'], /must not contain a user name or password/],
      [['myapp:/callback'], /neither https nor a reverse-domain private-use scheme/],
      [['https://app.example.com/' + 'a'.repeat(2048)], /is longer than 2048 characters/],
      [Array.from({ length: 11 }, (_, i) => `https://app.example.com/${i}`), /must list at most 10 redirect URIs/],
      [[], /must list at least one redirect URI/],
    ];
    for (const [uris, reason] of refused) {
      assert.throws(
        () => clientFromDocument(ID, { ...valid, redirect_uris: uris }, rules),
        (error: unknown) => invalidClient(error) && /^client metadata document /.test((error as OAuthError).description) && reason.test((error as OAuthError).description),
        JSON.stringify(uris),
      );
    }
    const ten = Array.from({ length: 10 }, (_, i) => `https://app.example.com/${i}`);
    assert.deepEqual(clientFromDocument(ID, { ...valid, redirect_uris: [...ten, ten[0]] }, rules).redirectUris, ten);
  });

  it('needs no redirect URIs for a client of the device grant alone; the code flow still does', () => {
    const { redirect_uris: _redirects, ...withoutRedirects } = valid;
    const deviceOnly = { ...withoutRedirects, grant_types: ['urn:ietf:params:oauth:grant-type:device_code'] };
    assert.deepEqual(clientFromDocument(ID, deviceOnly, rules).redirectUris, []);
    assert.deepEqual(clientFromDocument(ID, { ...deviceOnly, redirect_uris: [] }, rules).redirectUris, []);
    assert.throws(() => clientFromDocument(ID, withoutRedirects, rules), (error: unknown) => invalidClient(error) && /redirect_uris/.test((error as OAuthError).description));
  });

  it('refuses invalid documents', () => {
    const cases: Array<[string, unknown]> = [
      ['not an object', 'a string'],
      ['an array', [valid]],
      ['null', null],
      ['missing client_id', { ...valid, client_id: undefined }],
      ['other client_id', { ...valid, client_id: 'https://evil.example.com/oauth/client.json' }],
      ['client_id differing in case', { ...valid, client_id: ID.toUpperCase() }],
      ['client_id with a trailing slash', { ...valid, client_id: ID + '/' }],
      ['no redirect_uris', { ...valid, redirect_uris: undefined }],
      ['empty redirect_uris', { ...valid, redirect_uris: [] }],
      ['redirect_uris a string', { ...valid, redirect_uris: 'https://app.example.com/callback' }],
      ['relative redirect URI', { ...valid, redirect_uris: ['/callback'] }],
      ['redirect URI with a fragment', { ...valid, redirect_uris: ['https://app.example.com/cb#x'] }],
      ['redirect URI with an empty fragment', { ...valid, redirect_uris: ['https://app.example.com/cb#'] }],
      ['javascript: redirect URI', { ...valid, redirect_uris: ['javascript:alert(1)'] }],
      ['data: redirect URI', { ...valid, redirect_uris: ['data:text/html,hi'] }],
      ['file: redirect URI', { ...valid, redirect_uris: ['file:///etc/passwd'] }],
      ['non-string redirect URI', { ...valid, redirect_uris: [42] }],
      ['http redirect URI on a public host', { ...valid, redirect_uris: ['http://app.example.com/callback'] }],
      ['redirect URI with user info', { ...valid, redirect_uris: ['https://user:pw@app.example.com/callback'] }],
      ['no client_name', { ...valid, client_name: undefined }],
      ['blank client_name', { ...valid, client_name: '   ' }],
      ['client_name not a string', { ...valid, client_name: ['App'] }],
      ['client_name too long', { ...valid, client_name: 'x'.repeat(101) }],
      ['"official" in the name', { ...valid, client_name: 'The Official App' }],
      ['"verified" in the name', { ...valid, client_name: 'VERIFIED exporter' }],
      ['the platform name', { ...valid, client_name: 'acme analytics sync' }],
      ['client_secret_basic', { ...valid, token_endpoint_auth_method: 'client_secret_basic' }],
      ['client_secret_post', { ...valid, token_endpoint_auth_method: 'client_secret_post' }],
      ['client_secret_jwt', { ...valid, token_endpoint_auth_method: 'client_secret_jwt' }],
      ['private_key_jwt (unsupported)', { ...valid, token_endpoint_auth_method: 'private_key_jwt' }],
      ['a client_secret', { ...valid, client_secret: 'hunter2' }],
      ['an empty client_secret', { ...valid, client_secret: '' }],
      ['a private key in jwks', { ...valid, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'secret' }] } }],
      ['a lone private JWK as jwks', { ...valid, jwks: { kty: 'RSA', n: 'n', e: 'AQAB', d: 'secret' } }],
    ];
    for (const [name, document] of cases) assert.throws(() => clientFromDocument(ID, document, rules), invalidClient, name);
  });
});

describe('CIMD cache lifetimes', () => {
  it('clamps max-age to 5 minutes .. 24 hours, 1 hour when absent', () => {
    const cases: Array<[string | undefined, number]> = [
      [undefined, 3600],
      ['', 3600],
      ['public', 3600],
      ['max-age=600', 600],
      ['public, max-age=7200', 7200],
      ['max-age=1', 300],
      ['max-age=0', 300],
      ['max-age=999999', 86400],
      ['MAX-AGE=900', 900],
      ['max-age="900"', 900],
      ['no-store', 300],
      ['no-cache, max-age=7200', 300],
      ['max-age=abc', 3600],
    ];
    for (const [header, seconds] of cases) assert.equal(cacheLifetimeSeconds(header), seconds, String(header));
  });
});

describe('CIMD blocklist patterns', () => {
  it('takes a canonical client id URL or a domain', () => {
    assert.equal(parseBlockPattern('https://app.example.com/client.json'), 'https://app.example.com/client.json');
    assert.equal(parseBlockPattern('Example.COM'), 'example.com');
    assert.equal(parseBlockPattern('sub.example.com.'), 'sub.example.com');
    for (const bad of ['https://app.example.com/c?x', 'https://app.example.com', 'http://app.example.com/c', 'exa mple.com', '-bad.example', 'a..b', '', 'example.com/path', '*.example.com']) {
      assert.equal(parseBlockPattern(bad), undefined, bad);
    }
  });
});
