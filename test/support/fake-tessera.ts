/**
 * A fake Tessera behind a fake fetch, for the client SDK's unit tests: discovery, a rotating token
 * endpoint that signs ID tokens (RS256 or ES256, keys served at a JWKS endpoint), revocation, and
 * an API that accepts only the current access token. Tests change its state to misbehave.
 */
import { createHash } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const ISSUER = 'https://tessera.example';
export const CLIENT_ID = 'pca_app';
export const NOW = Date.parse('2026-04-18T12:00:00Z');

type Handler = (request: Request) => Response | Promise<Response>;
export const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** Keys made once per test process: generating RSA keys is slow. */
let sharedKeys: Promise<SigningKey[]> | undefined;
export function testKeys(): Promise<SigningKey[]> {
  sharedKeys ??= Promise.all([signingKey('RS256', 'rs-1'), signingKey('ES256', 'es-1'), signingKey('RS256', 'rs-2')]);
  return sharedKeys;
}

export interface FakeOptions {
  routes?: Record<string, Handler>;
  /** Extra discovery fields (base_url, say). */
  metadata?: Record<string, unknown>;
}

export async function fakeTessera({ routes = {}, metadata = {} }: FakeOptions = {}) {
  const [rs256, es256, rotated] = await testKeys();
  const state = {
    generation: 1,
    access: 'pha_1',
    refresh: 'phr_1',
    scope: 'openid project:read',
    sub: 'usr_1',
    /** The nonce the next code exchange's ID token carries (a test copies it from its authorization request). */
    nonce: undefined as string | undefined,
    /** The key ID tokens are signed with, and the keys the JWKS publishes. */
    signWith: rs256!,
    published: [rs256!, es256!],
    jwksDown: false,
    /** Claims that replace the honest ones, for tests of what the SDK refuses. */
    claims: {} as JWTPayload,
    /** Token response fields added to every answer (base_url, say). */
    extra: {} as Record<string, unknown>,
  };
  const requests: { path: string; url: string; authorization: string | null; form: URLSearchParams | undefined }[] = [];

  async function idToken(accessToken: string, nonce: string | undefined): Promise<string> {
    const iat = Math.floor(NOW / 1000);
    const atHash = createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
    const claims = { iss: ISSUER, sub: state.sub, aud: CLIENT_ID, iat, exp: iat + 3600, auth_time: iat - 60, at_hash: atHash, email: 'ada@example.com', nonce, ...state.claims };
    return new SignJWT(claims).setProtectedHeader({ alg: state.signWith.alg, kid: state.signWith.kid, typ: 'JWT' }).sign(state.signWith.privateKey);
  }

  async function issue(nonce: string | undefined): Promise<Response> {
    const openid = state.scope.split(' ').includes('openid');
    return json({
      access_token: state.access,
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: state.refresh,
      scope: state.scope,
      access_level: 'organization',
      scoped_organizations: ['org_a', 'org_b'],
      scoped_projects: [],
      ...(openid ? { id_token: await idToken(state.access, nonce) } : {}),
      ...state.extra,
    });
  }

  const defaults: Record<string, Handler> = {
    '/.well-known/oauth-authorization-server': () =>
      json({
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/oauth/authorize`,
        token_endpoint: `${ISSUER}/oauth/token`,
        revocation_endpoint: `${ISSUER}/oauth/revoke`,
        userinfo_endpoint: `${ISSUER}/oauth/userinfo`,
        jwks_uri: `${ISSUER}/.well-known/jwks.json`,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
        ...metadata,
      }),
    '/.well-known/jwks.json': () => (state.jwksDown ? json({ error: 'temporarily_unavailable' }, 503) : json({ keys: state.published.map((key) => key.publicJwk) })),
    '/oauth/token': async (request) => {
      const form = new URLSearchParams(await request.text());
      await new Promise((resolve) => setTimeout(resolve, 10)); // lets concurrent callers overlap
      if (form.get('grant_type') === 'authorization_code') return issue(state.nonce);
      if (form.get('refresh_token') !== state.refresh) return json({ error: 'invalid_grant', error_description: 'the refresh token is invalid, expired or revoked' }, 400);
      state.generation += 1;
      state.access = `pha_${state.generation}`;
      state.refresh = `phr_${state.generation}`;
      return issue(undefined);
    },
    '/oauth/revoke': () => new Response(null, { status: 200 }),
  };
  const http: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    const form = request.headers.get('content-type')?.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(await request.clone().text()) : undefined;
    requests.push({ path, url: request.url, authorization: request.headers.get('authorization'), form });
    const handler = routes[path] ?? defaults[path];
    if (handler) return handler(request);
    return request.headers.get('authorization') === `Bearer ${state.access}` ? json({ path }) : json({ error: 'invalid_token' }, 401);
  };
  return { http, state, requests, keys: { rs256: rs256!, es256: es256!, rotated: rotated! }, count: (path: string) => requests.filter((r) => r.path === path).length };
}

export type FakeTessera = Awaited<ReturnType<typeof fakeTessera>>;
