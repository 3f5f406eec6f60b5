/** `tessera keys`, `tessera mail` and `user create --verified`, through the real command. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { tesseraCli } from '../support/cli.js';

const tessera = tesseraCli({ env: { TESSERA_KEY_PUBLISH_DELAY: '600' } });

describe('tessera keys and mail', () => {
  after(() => tessera.dispose());

  it('lists the initial keys and rotates one, publishing it before it signs', async () => {
    const listed = await tessera('keys', 'list', '--json');
    assert.equal(listed.status, 0, listed.stderr);
    const keys = listed.json().keys as Array<{ kid: string; alg: string; status: string }>;
    assert.deepEqual(keys.map((key) => `${key.alg}:${key.status}`).sort(), ['ES256:active', 'RS256:active']);

    const rotated = await tessera('keys', 'rotate', '--alg', 'ES256', '--json');
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.equal(rotated.json().created.status, 'pending');
    assert.equal(rotated.json().created.alg, 'ES256');
    const after = (await tessera('keys', 'list', '--json')).json().keys as Array<{ kid: string; status: string }>;
    assert.equal(after.find((key) => key.kid === rotated.json().created.kid)?.status, 'pending');

    const now = await tessera('keys', 'rotate', '--immediately', '--json');
    assert.equal(now.json().created.status, 'active');
    assert.match((await tessera('keys', 'list')).stdout, /RS256\s+retired\s+leaves the JWKS at/);

    const bad = await tessera('keys', 'rotate', '--alg', 'HS256');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /HS256/);
  });

  it('mails a confirmation link to users it creates, unless told the address is verified', async () => {
    assert.equal((await tessera('user', 'create', '--email', 'new@example.com', '--password', 'long enough pw', '--json')).status, 0);
    assert.equal((await tessera('user', 'create', '--email', 'known@example.com', '--password', 'long enough pw', '--verified', '--json')).status, 0);
    const mail = (await tessera('mail', 'list', '--json')).json().messages as Array<{ to: string; body: string }>;
    assert.deepEqual(mail.map((message) => message.to), ['new@example.com']);
    assert.match(mail[0]!.body, /http:\/\/localhost:8080\/verify-email\?token=phev_/);
    assert.match((await tessera('mail', 'list', '--to', 'NEW@example.com')).stdout, /Confirm your email address/);
    assert.equal((await tessera('mail', 'list', '--limit', 'x')).status, 2);
  });
});
