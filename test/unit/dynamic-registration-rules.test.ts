/** Dynamic Client Registration rules (RFC 7591, RFC 8252): which redirect URIs and metadata a client may register. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateClientMetadata } from '../../packages/server/src/core/clients/dynamic-registration.js';
import { OAuthError } from '../../packages/server/src/core/oauth/errors.js';
import { redirectUriRegistrationProblem } from '../../packages/server/src/core/oauth/redirect-uri.js';
import { platformScopes } from '../../packages/server/src/platform/scopes.js';

const PLATFORM = 'Acme Analytics';
const RULES = { platformName: PLATFORM, scopes: platformScopes };
const VALID = { client_name: 'Notebook Sync', redirect_uris: ['https://app.example.com/callback'] };

/** An https URI exactly `length` characters long. */
function uriOfLength(length: number): string {
  const prefix = 'https://app.example.com/';
  return prefix + 'a'.repeat(length - prefix.length);
}

function refusal(metadata: unknown): { code: string; description: string } {
  try {
    validateClientMetadata(metadata, RULES);
  } catch (error) {
    assert.ok(error instanceof OAuthError, String(error));
    return { code: error.code, description: error.description };
  }
  assert.fail(`accepted ${JSON.stringify(metadata)}`);
}

describe('redirect URIs a client may register', () => {
  const accepted = [
    'https://app.example.com/callback',
    'https://app.example.com/callback?tenant=1',
    'https://app.example.com:8443/cb',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:53123/callback',
    'http://[::1]:8080/callback',
    'http://localhost:3000/callback',
    'com.example.app:/oauth2redirect',
    'com.example.app://callback',
    'io.github.someone.cli:/cb',
  ];
  const refused: Array<[string, RegExp]> = [
    ['javascript:alert(1)', /forbidden scheme javascript:/],
    ['data:text/html,<script>alert(1)</script>', /forbidden scheme data:/],
    ['file:///etc/passwd', /forbidden scheme file:/],
    ['vbscript:msgbox(1)', /forbidden scheme vbscript:/],
    ['http://app.example.com/callback', /must use https/],
    ['http://127.0.0.1.example.com/callback', /must use https/],
    ['http://10.0.0.1/callback', /must use https/],
    ['https://app.example.com/callback#fragment', /fragment/],
    ['https://app.example.com/callback#', /fragment/],
    ['http://127.0.0.1/callback#x', /fragment/],
    ['/callback', /not an absolute URI/],
    ['app.example.com/callback', /not an absolute URI/],
    ['https:callback', /not an absolute URI/],
    ['https:///callback', /not an absolute URI/],
    ['', /not an absolute URI/],
    ['myapp:/callback', /neither https nor a reverse-domain/],
    ['ftp://files.example.com/cb', /neither https nor a reverse-domain/],
  ];

  for (const uri of accepted) {
    it(`accepts ${uri}`, () => {
      assert.equal(redirectUriRegistrationProblem(uri), undefined);
      assert.deepEqual(validateClientMetadata({ ...VALID, redirect_uris: [uri] }, RULES).redirectUris, [uri]);
    });
  }
  for (const [uri, reason] of refused) {
    it(`refuses ${JSON.stringify(uri)}`, () => {
      assert.match(redirectUriRegistrationProblem(uri) ?? '', reason);
      const { code, description } = refusal({ ...VALID, redirect_uris: ['https://app.example.com/ok', uri] });
      assert.equal(code, 'invalid_redirect_uri');
      assert.match(description, reason);
    });
  }
});

describe('length, count and user info: rules shared with developer apps and CIMD', () => {
  it('accepts a redirect URI and a logo_uri of 2048 characters', () => {
    const registration = validateClientMetadata({ ...VALID, redirect_uris: [uriOfLength(2048)], logo_uri: uriOfLength(2048) }, RULES);
    assert.deepEqual(registration.redirectUris, [uriOfLength(2048)]);
    assert.equal(registration.logoUri, uriOfLength(2048));
  });

  it('refuses a redirect URI of 2049 characters', () => {
    const { code, description } = refusal({ ...VALID, redirect_uris: [uriOfLength(2049)] });
    assert.equal(code, 'invalid_redirect_uri');
    assert.match(description, /is longer than 2048 characters/);
  });

  for (const uri of ['https://user:pw@app.example.com/cb', 'https://app.example.com@evil.example/cb', 'http://user@127.0.0.1/cb', 'com.example.app://user:pw@cb/']) {
    it(`refuses the redirect URI ${uri}: no user name or password`, () => {
      const { code, description } = refusal({ ...VALID, redirect_uris: [uri] });
      assert.equal(code, 'invalid_redirect_uri');
      assert.match(description, /must not contain a user name or password/);
    });
  }

  it('accepts 10 redirect URIs, counting one listed twice once', () => {
    const uris = Array.from({ length: 10 }, (_, i) => `https://app.example.com/${i}`);
    assert.deepEqual(validateClientMetadata({ ...VALID, redirect_uris: [...uris, uris[0]] }, RULES).redirectUris, uris);
  });
});

describe('client metadata', () => {
  it('fills in the defaults: client_secret_basic (RFC 7591), authorization_code with refresh_token, code', () => {
    assert.deepEqual(validateClientMetadata(VALID, RULES), {
      redirectUris: VALID.redirect_uris,
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['authorization_code', 'refresh_token'],
      responseTypes: ['code'],
      clientName: 'Notebook Sync',
      scope: null,
      logoUri: null,
      idTokenSignedResponseAlg: null,
    });
  });

  it('keeps what an MCP client registers and ignores fields it does not use', () => {
    const registration = validateClientMetadata(
      {
        ...VALID,
        client_name: '  Notebook Sync  ',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'project:read  annotation:write openid',
        logo_uri: 'https://app.example.com/logo.png',
        id_token_signed_response_alg: 'ES256',
        client_uri: 'https://app.example.com',
        software_id: 'notebook-sync',
        contacts: ['ops@example.com'],
      },
      RULES,
    );
    assert.equal(registration.clientName, 'Notebook Sync');
    assert.equal(registration.tokenEndpointAuthMethod, 'none');
    assert.deepEqual(registration.grantTypes, ['authorization_code', 'refresh_token']);
    assert.deepEqual(registration.scope, ['project:read', 'annotation:write', 'openid']);
    assert.equal(registration.logoUri, 'https://app.example.com/logo.png');
    assert.equal(registration.idTokenSignedResponseAlg, 'ES256');
  });

  it('keeps the grant types a client registers: without refresh_token it gets no refresh tokens', () => {
    assert.deepEqual(validateClientMetadata({ ...VALID, grant_types: ['authorization_code'] }, RULES).grantTypes, ['authorization_code']);
    assert.deepEqual(validateClientMetadata({ ...VALID, grant_types: ['refresh_token', 'authorization_code'], response_types: ['code'] }, RULES).grantTypes, ['refresh_token', 'authorization_code']);
  });

  it('accepts each token endpoint authentication method', () => {
    for (const method of ['none', 'client_secret_basic', 'client_secret_post']) {
      assert.equal(validateClientMetadata({ ...VALID, token_endpoint_auth_method: method }, RULES).tokenEndpointAuthMethod, method);
    }
  });

  it('needs no redirect URIs for the device grant alone (RFC 8628 has no redirect), and checks any that are given', () => {
    const deviceOnly = { client_name: 'Hog TV', grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'] };
    assert.deepEqual(validateClientMetadata(deviceOnly, RULES).redirectUris, []);
    assert.deepEqual(validateClientMetadata({ ...deviceOnly, redirect_uris: [] }, RULES).redirectUris, []);
    assert.equal(refusal({ ...deviceOnly, redirect_uris: ['http://app.example.com/cb'] }).code, 'invalid_redirect_uri');
  });

  const refused: Array<[string, unknown, RegExp]> = [
    ['a body that is not an object', ['https://app.example.com/cb'], /JSON object/],
    ['a null body', null, /JSON object/],
    ['a string body', 'client_name=x', /JSON object/],
    ['missing redirect_uris', { client_name: 'Notebook Sync' }, /redirect_uris is required for the authorization_code grant/],
    ['missing redirect_uris with the code flow beside the device grant', { client_name: 'Notebook Sync', grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'] }, /redirect_uris is required/],
    ['an empty redirect_uris', { ...VALID, redirect_uris: [] }, /at least one redirect URI/],
    ['redirect_uris as a string', { ...VALID, redirect_uris: 'https://app.example.com/cb' }, /redirect_uris must be an array of strings/],
    ['a redirect URI that is not a string', { ...VALID, redirect_uris: [42] }, /redirect_uris must be an array of strings/],
    ['too many redirect URIs', { ...VALID, redirect_uris: Array.from({ length: 11 }, (_, i) => `https://app.example.com/${i}`) }, /at most 10/],
    ['the implicit grant', { ...VALID, grant_types: ['authorization_code', 'implicit'] }, /grant_types lists unsupported grant types: implicit/],
    ['client credentials', { ...VALID, grant_types: ['client_credentials'] }, /grant_types lists unsupported grant types: client_credentials/],
    ['refresh_token without authorization_code', { ...VALID, grant_types: ['refresh_token'] }, /must include authorization_code/],
    ['grant_types as a string', { ...VALID, grant_types: 'authorization_code' }, /grant_types must be an array of strings/],
    ['response type token', { ...VALID, response_types: ['token'] }, /response_types must be \["code"\]/],
    ['response types code and token', { ...VALID, response_types: ['code', 'token'] }, /response_types must be \["code"\]/],
    ['no response type for the authorization_code grant', { ...VALID, response_types: [] }, /response_types must be \["code"\] to go with grant_types authorization_code/],
    ['grant_types with a non-string', { ...VALID, grant_types: ['authorization_code', 7] }, /grant_types must be an array of strings/],
    ['an unknown auth method', { ...VALID, token_endpoint_auth_method: 'private_key_jwt' }, /token_endpoint_auth_method must be one of/],
    ['an auth method that is not a string', { ...VALID, token_endpoint_auth_method: true }, /token_endpoint_auth_method must be a string/],
    ['no client_name', { redirect_uris: VALID.redirect_uris }, /client_name is required/],
    ['a blank client_name', { ...VALID, client_name: '   ' }, /client_name is required/],
    ['a client_name that is not a string', { ...VALID, client_name: { en: 'Notebook' } }, /client_name must be a string/],
    ['a long client_name', { ...VALID, client_name: 'x'.repeat(101) }, /1 to 100 characters/],
    ['"Official" in the name', { ...VALID, client_name: 'Official Notebook' }, /must not contain/],
    ['"verified" in the name', { ...VALID, client_name: 'VERIFIED sync' }, /must not contain/],
    ['the platform name', { ...VALID, client_name: 'acme analytics Sync' }, /must not contain .*"Acme Analytics"/],
    ['an unknown scope', { ...VALID, scope: 'project:read admin:everything' }, /only known scopes, not admin:everything/],
    ['an empty scope', { ...VALID, scope: ' ' }, /at least one scope/],
    ['scope as an array', { ...VALID, scope: ['project:read'] }, /scope must be a string/],
    ['an http logo_uri', { ...VALID, logo_uri: 'http://app.example.com/logo.png' }, /logo_uri must be an https URL/],
    ['a data: logo_uri', { ...VALID, logo_uri: 'data:image/png;base64,AAAA' }, /logo_uri must be an https URL/],
    ['a relative logo_uri', { ...VALID, logo_uri: '/logo.png' }, /logo_uri must be an https URL/],
    ['a logo_uri with a user name and password', { ...VALID, logo_uri: 'https://user:pw@app.example.com/logo.png' }, /logo_uri must not contain a user name or password/],
    ['a logo_uri with a user name', { ...VALID, logo_uri: 'https://cdn.example.com@evil.example/logo.png' }, /logo_uri must not contain a user name or password/],
    ['a logo_uri over 2048 characters', { ...VALID, logo_uri: uriOfLength(2049) }, /logo_uri is longer than 2048 characters/],
    ['an unsupported ID token algorithm', { ...VALID, id_token_signed_response_alg: 'HS256' }, /id_token_signed_response_alg must be one of RS256, ES256/],
    ['the none ID token algorithm', { ...VALID, id_token_signed_response_alg: 'none' }, /id_token_signed_response_alg/],
  ];
  for (const [what, metadata, reason] of refused) {
    it(`refuses ${what} with invalid_client_metadata`, () => {
      const { code, description } = refusal(metadata);
      assert.equal(code, 'invalid_client_metadata');
      assert.match(description, reason);
    });
  }
});
