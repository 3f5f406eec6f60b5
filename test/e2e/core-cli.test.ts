/** The `tessera` command: every command with --json, and clear errors with a non-zero exit. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../packages/server/src/config.js';
import { createRuntime } from '../../packages/server/src/runtime.js';
import { hashToken } from '../../packages/server/src/core/crypto/token-formats.js';
import { spawnTessera, tesseraCli } from '../support/cli.js';

const tessera = tesseraCli();

describe('tessera CLI', () => {
  after(() => tessera.dispose());

  it('migrates, then creates a user, an organization, a project and clients', async () => {
    const migrated = await tessera('migrate', '--json');
    assert.equal(migrated.status, 0, migrated.stderr);
    assert.ok(migrated.json().applied.includes('001_foundation'));
    assert.deepEqual((await tessera('migrate', '--json')).json().applied, []);
    const purged = await tessera('purge', '--json');
    assert.equal(purged.status, 0, purged.stderr);
    assert.deepEqual(purged.json().deleted, { accessTokens: 0, refreshTokens: 0, authorizationCodes: 0, sessions: 0, emailVerifications: 0, signupRequests: 0, passwordResets: 0, pendingSignIns: 0, deviceAuthorizations: 0 });

    const user = await tessera('user', 'create', '--email', 'Ops@Example.com', '--password', 'long enough pw', '--name', 'Ops', '--json');
    assert.equal(user.status, 0, user.stderr);
    assert.equal(user.json().email, 'ops@example.com');
    assert.equal(user.json().is_admin, true);

    const org = await tessera('org', 'create', '--name', 'Acme', '--owner', 'ops@example.com', '--json');
    assert.equal(org.status, 0, org.stderr);
    const project = await tessera('project', 'create', '--org', org.json().id, '--name', 'Web', '--json');
    assert.equal(project.status, 0, project.stderr);
    assert.equal(project.json().organization_id, org.json().id);
    const sample = await tessera('project', 'create', '--org', org.json().id, '--name', 'Demo', '--sample-data', '--json');
    assert.equal(sample.status, 0, sample.stderr);
    assert.ok(sample.json().sample_events > 100);

    const confidential = await tessera('client', 'create', '--name', 'App', '--redirect-uri', 'https://app.example/cb', '--redirect-uri', 'http://127.0.0.1/cb', '--scope', 'project:read openid', '--json');
    assert.equal(confidential.status, 0, confidential.stderr);
    const data = confidential.json();
    assert.match(data.client_id, /^pca_/);
    assert.match(data.client_secret, /^pcs_/);
    assert.deepEqual(data.redirect_uris, ['https://app.example/cb', 'http://127.0.0.1/cb']);
    assert.equal(data.scope, 'project:read openid');
    assert.deepEqual(data.grant_types, ['authorization_code', 'refresh_token']);

    const runtime = await createRuntime(loadConfig({ DATABASE_URL: tessera.databaseUrl }));
    const row = await runtime.store.kysely.selectFrom('clients').selectAll().where('id', '=', data.client_id).executeTakeFirstOrThrow();
    await runtime.close();
    assert.equal(row.secret_hash, hashToken(data.client_secret), 'only the hash of the secret is stored');

    const publicClient = await tessera('client', 'create', '--name', 'Mobile', '--redirect-uri', 'com.example.app:/cb', '--public', '--json');
    assert.equal(publicClient.status, 0, publicClient.stderr);
    assert.equal(publicClient.json().client_secret, undefined);
    assert.equal(publicClient.json().public, true);

    const codeOnly = await tessera('client', 'create', '--name', 'Code Only', '--redirect-uri', 'https://app.example/cb', '--grant-type', 'authorization_code', '--json');
    assert.equal(codeOnly.status, 0, codeOnly.stderr);
    assert.deepEqual(codeOnly.json().grant_types, ['authorization_code']);

    const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
    const cli = await tessera('client', 'create', '--name', 'Hog CLI', '--redirect-uri', 'http://127.0.0.1/callback', '--public', '--grant-type', 'authorization_code', '--grant-type', deviceGrant, '--grant-type', 'refresh_token', '--json');
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(cli.json().grant_types, ['authorization_code', deviceGrant, 'refresh_token']);

    // A client of the device grant alone has no redirect, so it lists no redirect URI.
    const tv = await tessera('client', 'create', '--name', 'Hog TV', '--public', '--grant-type', deviceGrant, '--grant-type', 'refresh_token', '--json');
    assert.equal(tv.status, 0, tv.stderr);
    assert.deepEqual(tv.json().redirect_uris, []);
    assert.match((await tessera('client', 'show', tv.json().client_id)).stdout, /redirect URIs: none \(device sign-in only\)/);

    const human = await tessera('client', 'create', '--name', 'Human', '--redirect-uri', 'https://app.example/cb');
    assert.match(human.stdout, /client_secret: pcs_.*shown once/);
  });

  it('runs as the installed command: a child process through the bin (--help, migrate --json)', () => {
    const help = spawnTessera(['--help']);
    assert.equal(help.status, 0, help.stderr);
    for (const command of ['start', 'migrate', 'purge', 'user', 'org', 'project', 'client', 'keys', 'audit', 'cimd', 'app']) {
      assert.match(help.stdout, new RegExp(`^\\s+${command}\\b`, 'm'), `--help lists ${command}`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'tessera-spawned-'));
    try {
      const migrated = spawnTessera(['migrate', '--json'], { DATABASE_URL: `sqlite:${join(dir, 'spawned.sqlite')}` });
      assert.equal(migrated.status, 0, migrated.stderr);
      assert.ok(migrated.json().applied.includes('001_foundation'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains bad arguments and exits non-zero', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['user', 'create', '--email', 'x@example.com'], /password/],
      [['user', 'create', '--email', 'not-an-email', '--password', 'long enough pw'], /valid email/],
      [['user', 'create', '--email', 'short@example.com', '--password', 'short'], /at least 8/],
      [['org', 'create', '--name', 'X', '--owner', 'nobody@example.com'], /no user/],
      [['project', 'create', '--org', 'missing', '--name', 'X'], /No organization/],
      [['client', 'create', '--name', 'X'], /--redirect-uri: must list at least one redirect URI/],
      [['client', 'create', '--name', 'X', '--grant-type', 'authorization_code', '--grant-type', 'urn:ietf:params:oauth:grant-type:device_code'], /--redirect-uri: must list at least one redirect URI/],
      [['client', 'create', '--name', 'X', '--redirect-uri', 'not a uri'], /not an absolute URI/],
      [['client', 'create', '--name', 'X', '--redirect-uri', 'javascript:alert(1)'], /forbidden scheme/],
      [['client', 'create', '--name', 'X', '--redirect-uri', 'https://a.example/#f'], /fragment/],
      [['client', 'create', '--name', 'X', '--redirect-uri', 'http://app.example/cb'], /must use https unless it is on a loopback host/],
      [['client', 'create', '--name', 'X', '--redirect-uri', 'https://user:pw@app.example/cb'], /user name or password/],
      [['client', 'create', '--name', 'X', '--redirect-uri', 'https://a.example/', '--scope', 'admin'], /--scope must list only known scopes, not admin/],
      [['client', 'create', '--name', 'X', '--redirect-uri', 'https://a.example/', '--grant-type', 'client_credentials'], /--grant-type lists unsupported grant types: client_credentials/],
      [['client', 'create', '--name', 'X', '--redirect-uri', 'https://a.example/', '--grant-type', 'refresh_token'], /must include authorization_code/],
      [['bogus'], /unknown command/],
    ];
    for (const [args, message] of cases) {
      const result = await tessera(...args);
      assert.notEqual(result.status, 0, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
    }
  });
});
