/**
 * The region-agnostic front's decisions, without HTTP: which region an authorization request goes
 * to (and that it can only go to a configured region), how discovery is rewritten, and which
 * region's answer is relayed when the credential carries no region, and how the picker names the app.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, loadFrontConfig, parseRegions, type Region } from '../../packages/server/src/config.js';
import { findAppIdentity, identityFromAnswer, requestedClientId } from '../../packages/server/src/platform/regions/app-identity.js';
import { cachedPerKey } from '../../packages/server/src/platform/regions/cache.js';
import { frontMetadata, mergeJwks, RegionMetadataError } from '../../packages/server/src/platform/regions/metadata.js';
import { chooseRegion, pickerLink, splitRegionParam } from '../../packages/server/src/platform/regions/picker.js';
import { classifyByClient, classifyIntrospection, classifyToken, classifyUserInfo, routeInTurn, routeToEvery, type Verdict } from '../../packages/server/src/platform/regions/routing.js';
import type { Unreachable, UpstreamAnswer } from '../../packages/server/src/platform/regions/upstream.js';

const REGIONS: Region[] = [
  { name: 'us', baseUrl: 'https://us.example.com' },
  { name: 'eu', baseUrl: 'https://eu.example.com' },
];
const FRONT = 'https://oauth.example.com';

function answer(status: number, body: Record<string, unknown>): UpstreamAnswer {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}
const parse = (reply: UpstreamAnswer) => JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;

describe('region configuration', () => {
  it('parses TESSERA_REGIONS and refuses malformed or duplicate entries', () => {
    assert.deepEqual(parseRegions('us=https://us.example.com/, eu=https://eu.example.com'), REGIONS);
    assert.throws(() => parseRegions('US=https://us.example.com'), ConfigError);
    assert.throws(() => parseRegions('us=https://a.example.com,us=https://b.example.com'), ConfigError);
    assert.throws(() => parseRegions('us=https://us.example.com?x=1'), ConfigError);
  });

  it('a regional deployment serves at its own URL under the front as issuer', () => {
    const config = loadConfig({ TESSERA_ISSUER: FRONT, TESSERA_SECRET_KEY: 'k'.repeat(32), TESSERA_REGIONS: 'us=https://us.example.com,eu=https://eu.example.com', TESSERA_REGION: 'eu' });
    assert.equal(config.issuer, FRONT);
    assert.equal(config.baseUrl, 'https://eu.example.com');
    assert.deepEqual(config.resources, ['https://eu.example.com/api']);
    assert.throws(() => loadConfig({ TESSERA_REGIONS: 'us=https://us.example.com' }), /TESSERA_REGION must name/);
    assert.throws(() => loadConfig({ TESSERA_ISSUER: FRONT, TESSERA_SECRET_KEY: 'k'.repeat(32), TESSERA_REGIONS: 'us=https://us.example.com', TESSERA_REGION: 'eu' }), /not one of/);
    assert.throws(() => loadFrontConfig({ TESSERA_ISSUER: 'https://us.example.com', TESSERA_REGIONS: 'us=https://us.example.com' }), /must differ/);
  });
});

describe('region choice at the front authorization endpoint', () => {
  const query = 'client_id=https%3A%2F%2Fapp.example%2Fclient&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=a%2Bb';

  it('shows the picker when nothing is known, with links that add the region and keep the query', () => {
    const choice = chooseRegion(REGIONS, query, undefined);
    assert.deepEqual(choice, { kind: 'picker', query });
    assert.equal(pickerLink(REGIONS[1]!, query), `/oauth/authorize?${query}&region=eu`);
  });

  it('redirects to the chosen region with the query byte for byte, minus the region parameter', () => {
    const choice = chooseRegion(REGIONS, `${query}&region=eu`, undefined);
    assert.equal(choice.kind, 'redirect');
    assert.equal(choice.kind === 'redirect' && choice.location, `https://eu.example.com/oauth/authorize?${query}`);
    assert.equal(choice.kind === 'redirect' && choice.chosenNow, true);
  });

  it('uses the remembered region unless prompt=select_account asks again', () => {
    const remembered = chooseRegion(REGIONS, query, 'eu');
    assert.equal(remembered.kind === 'redirect' && remembered.location.startsWith('https://eu.example.com/'), true);
    assert.equal(remembered.kind === 'redirect' && remembered.chosenNow, false);
    assert.equal(chooseRegion(REGIONS, `${query}&prompt=select_account`, 'eu').kind, 'picker');
    assert.equal(chooseRegion(REGIONS, query, 'mars').kind, 'picker');
  });

  it('never redirects anywhere but a configured region', () => {
    for (const region of ['https://evil.example', 'mars', '', '//evil.example']) {
      assert.equal(chooseRegion(REGIONS, `${query}&region=${encodeURIComponent(region)}`, undefined).kind, 'refused');
    }
    assert.equal(chooseRegion(REGIONS, `${query}&region=us&region=eu`, undefined).kind, 'refused');
    // Raw control characters or spaces would otherwise reach the Location header.
    assert.equal(chooseRegion(REGIONS, 'state=a\r\nLocation: https://evil.example&region=us', undefined).kind, 'refused');
  });

  it('recognises an encoded parameter name and leaves others untouched', () => {
    assert.deepEqual(splitRegionParam('a=1&%72egion=eu&b=%20'), { query: 'a=1&b=%20', requested: ['eu'] });
  });
});

describe('front discovery', () => {
  const regional = {
    issuer: FRONT,
    authorization_endpoint: 'https://eu.example.com/oauth/authorize',
    token_endpoint: 'https://eu.example.com/oauth/token',
    device_authorization_endpoint: 'https://eu.example.com/oauth/device_authorization',
    jwks_uri: 'https://eu.example.com/.well-known/jwks.json',
    service_documentation: 'https://eu.example.com/docs',
    scopes_supported: ['openid'],
    region: 'eu',
    base_url: 'https://eu.example.com',
  };

  it('moves routed endpoints to the front and drops what only one region serves', () => {
    assert.deepEqual(frontMetadata(regional, REGIONS[1]!, FRONT), {
      issuer: FRONT,
      authorization_endpoint: `${FRONT}/oauth/authorize`,
      token_endpoint: `${FRONT}/oauth/token`,
      device_authorization_endpoint: `${FRONT}/oauth/device_authorization`,
      jwks_uri: `${FRONT}/.well-known/jwks.json`,
      scopes_supported: ['openid'],
    });
  });

  it('refuses a region configured with another issuer', () => {
    assert.throws(() => frontMetadata({ ...regional, issuer: 'https://eu.example.com' }, REGIONS[1]!, FRONT), RegionMetadataError);
  });

  it('publishes every region’s signing keys', () => {
    assert.deepEqual(mergeJwks([{ keys: [{ kid: 'a' }] }, { keys: [{ kid: 'b' }] }]), { keys: [{ kid: 'a' }, { kid: 'b' }] });
  });
});

describe('routing a credential without a region marker', () => {
  const invalidGrant = answer(400, { error: 'invalid_grant' });
  const invalidClient = answer(401, { error: 'invalid_client' });
  const tokens = answer(200, { access_token: 'pha_x' });

  it('classifies each endpoint’s refusal of an unknown credential', () => {
    const cases: Array<[Verdict, Verdict]> = [
      [classifyToken(invalidGrant), 'unknown-credential'],
      [classifyToken(invalidClient), 'unknown-client'],
      [classifyToken(answer(400, { error: 'invalid_request' })), 'answer'],
      [classifyToken(answer(503, { error: 'temporarily_unavailable' })), 'unavailable'],
      [classifyIntrospection(answer(200, { active: false })), 'unknown-credential'],
      [classifyIntrospection(answer(200, { active: true })), 'answer'],
      [classifyUserInfo(answer(401, { error: 'invalid_token' })), 'unknown-credential'],
      [classifyUserInfo(answer(403, { error: 'insufficient_scope' })), 'answer'],
      // The device authorization endpoint: the region that knows the client answers, whatever it says.
      [classifyByClient(invalidClient), 'unknown-client'],
      [classifyByClient(answer(400, { error: 'unauthorized_client' })), 'answer'],
      [classifyByClient(answer(200, { device_code: 'phdc_x' })), 'answer'],
      [classifyByClient(answer(429, { error: 'slow_down' })), 'unavailable'],
    ];
    for (const [actual, expected] of cases) assert.equal(actual, expected);
  });

  it('asks in turn and stops at the first region that recognises the credential', async () => {
    const asked: string[] = [];
    const reply = await routeInTurn(REGIONS, async (region) => (asked.push(region.name), region.name === 'us' ? invalidGrant : tokens), classifyToken);
    assert.deepEqual(asked, ['us', 'eu']);
    assert.deepEqual(parse(reply), { access_token: 'pha_x' });
    const first = await routeInTurn(REGIONS, async (region) => (asked.push(region.name), tokens), classifyToken);
    assert.equal(first, tokens);
    assert.deepEqual(asked, ['us', 'eu', 'us']);
  });

  it('prefers the refusal of a region that knew the client', async () => {
    const reply = await routeInTurn(REGIONS, async (region) => (region.name === 'us' ? invalidClient : invalidGrant), classifyToken);
    assert.equal(reply, invalidGrant);
  });

  it('never turns an unreachable region into a refusal the client would act on', async () => {
    const reply = await routeInTurn(REGIONS, async (region) => (region.name === 'us' ? invalidGrant : { unreachable: true, reason: 'ECONNREFUSED' }), classifyToken);
    assert.equal(reply.status, 503);
    assert.equal(parse(reply).error, 'temporarily_unavailable');
    assert.equal(reply.headers['retry-after'], '5');
  });

  it('revokes everywhere and reports an unreachable region', async () => {
    const ok = answer(200, {});
    const asked: string[] = [];
    assert.equal(await routeToEvery(REGIONS, async (region) => (asked.push(region.name), ok), classifyToken), ok);
    assert.deepEqual(asked.sort(), ['eu', 'us']);
    const partial = await routeToEvery(REGIONS, async (region) => (region.name === 'eu' ? { unreachable: true, reason: 'TimeoutError' } : ok), classifyToken);
    assert.equal(partial.status, 503);
  });
});

describe('naming the app on the region picker', () => {
  const display = (clientId: string, extra: Record<string, unknown> = {}) => answer(200, { client_id: clientId, client_name: 'Atlas', logo_uri: null, verified: false, ...extra });
  const notHere = answer(404, { error: 'not_found' });
  const down: Unreachable = { unreachable: true, reason: 'ECONNREFUSED' };

  it('reads the client id of a request that names exactly one', () => {
    assert.equal(requestedClientId('client_id=app_1&state=x'), 'app_1');
    assert.equal(requestedClientId('client_id=a&client_id=b'), undefined);
    assert.equal(requestedClientId('state=x'), undefined);
  });

  it('takes a region’s answer only about the client asked for, and an https logo only', () => {
    assert.deepEqual(identityFromAnswer('app_1', display('app_1', { logo_uri: 'https://cdn.example/a.png', verified: true })), { name: 'Atlas', logoUri: 'https://cdn.example/a.png', verified: true });
    assert.equal(identityFromAnswer('app_1', display('app_2')), undefined);
    assert.equal(identityFromAnswer('app_1', display('app_1', { client_name: '' })), undefined);
    assert.equal(identityFromAnswer('app_1', display('app_1', { logo_uri: 'javascript:alert(1)' }))?.logoUri, null);
  });

  it('names the app from the region that knows it, without waiting for a slow one', async () => {
    const slow = new Promise<Unreachable>(() => undefined);
    const identity = await findAppIdentity(REGIONS, 'app_1', async (region) => (region.name === 'us' ? slow : display('app_1')));
    assert.equal(identity?.name, 'Atlas');
  });

  it('knows an unknown client only when every region said so; a silent region leaves it open', async () => {
    assert.equal(await findAppIdentity(REGIONS, 'app_1', async () => notHere), null);
    await assert.rejects(findAppIdentity(REGIONS, 'app_1', async (region) => (region.name === 'us' ? down : notHere)), /region us did not answer/);
    await assert.rejects(findAppIdentity(REGIONS, 'app_1', async (region) => (region.name === 'us' ? answer(429, {}) : notHere)), /answered 429/);
  });

  it('names a metadata document client by its host without asking any region', async () => {
    const identity = await findAppIdentity(REGIONS, 'https://app.example/client', async () => assert.fail('no region is asked'));
    assert.deepEqual(identity, { name: 'app.example', logoUri: null, verified: false });
  });

  it('keeps answers per key for their time, a bounded number of keys, and no failures', async () => {
    let clock = 0;
    const cached = cachedPerKey<string>(1000, 2, () => clock);
    let loads = 0;
    const load = (value: string) => async () => {
      loads++;
      return value;
    };
    assert.equal(await cached('a', load('A')), 'A');
    assert.equal(await cached('a', load('other')), 'A');
    await cached('b', load('B'));
    await cached('c', load('C')); // 'a', the oldest, is dropped
    assert.equal(await cached('a', load('A again')), 'A again');
    clock = 1000;
    assert.equal(await cached('c', load('C later')), 'C later');
    await assert.rejects(cached('d', async () => Promise.reject(new Error('down'))));
    assert.equal(await cached('d', load('D')), 'D');
    assert.equal(loads, 6);
  });
});
