/** `tessera secret-scanning patterns` and `tessera audit`, run as the real command. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordAudit } from '../../packages/server/src/core/audit.js';
import { loadConfig } from '../../packages/server/src/config.js';
import { createRuntime } from '../../packages/server/src/runtime.js';
import { generateToken, parseToken, TOKEN_PREFIXES } from '../../packages/server/src/core/crypto/token-formats.js';
import { tesseraCli } from '../support/cli.js';
import { seedUser } from '../support/seed.js';

const tessera = tesseraCli();

describe('tessera secret-scanning patterns', () => {
  it('prints one pattern per public token type that finds well-formed tokens in text', async () => {
    const result = await tessera('secret-scanning', 'patterns', '--json');
    assert.equal(result.status, 0, result.stderr);
    const patterns = result.json().patterns as Array<{ kind: 'accessToken' | 'refreshToken' | 'personalApiKey'; regex: string }>;
    assert.deepEqual(patterns.map((pattern) => pattern.kind), ['accessToken', 'refreshToken', 'personalApiKey']);
    for (const { kind, regex } of patterns) {
      const pattern = new RegExp(regex, 'g');
      const token = generateToken(kind);
      assert.deepEqual(`export TOKEN="${token}"\n${token},`.match(pattern), [token, token], kind);
      for (const other of ['accessToken', 'refreshToken', 'personalApiKey', 'authorizationCode', 'clientSecret'] as const) {
        if (other !== kind) assert.equal(new RegExp(regex).test(generateToken(other)), false, `${kind} pattern on ${other}`);
      }
      assert.equal(new RegExp(regex).test(token.slice(0, -1)), false, 'too short');
      assert.equal(new RegExp(regex).test(`${token}x`), false, 'too long');
      // A regular expression cannot check a CRC-32: a token with a wrong checksum matches, and
      // is then refused by its checksum (reported as a false positive) before any database read.
      const wrongChecksum = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
      assert.equal(new RegExp(regex).test(wrongChecksum), true);
      assert.equal(parseToken(wrongChecksum), undefined);
    }
    const human = await tessera('secret-scanning', 'patterns');
    for (const prefix of [TOKEN_PREFIXES.accessToken, TOKEN_PREFIXES.refreshToken]) assert.ok(human.stdout.includes(`\\b${prefix}(?:[0-9A-Za-z]{22})?[0-9A-Za-z]{49}\\b`));
    assert.ok(human.stdout.includes(`\\b${TOKEN_PREFIXES.personalApiKey}[0-9A-Za-z]{49}\\b`));
  });
});

describe('tessera audit', () => {
  let adaId: string;
  const january = Date.parse('2024-01-15T10:00:00Z');
  const june = Date.parse('2024-06-15T10:00:00Z');

  before(async () => {
    assert.equal((await tessera('migrate')).status, 0);
    const runtime = await createRuntime(loadConfig({ DATABASE_URL: tessera.databaseUrl }));
    const ada = await seedUser(runtime.ctx, 'ada@example.com');
    const grace = await seedUser(runtime.ctx, 'grace@example.com');
    adaId = ada.id;
    const db = runtime.ctx.store;
    await recordAudit(db, { type: 'consent.granted', userId: ada.id, actor: ada.id, clientId: 'pca_one', ip: '203.0.113.7', detail: { scope: 'project:read' } }, january);
    await recordAudit(db, { type: 'token.revoked', userId: ada.id, actor: 'client:pca_one', clientId: 'pca_one', detail: { token_type: 'refresh_token' } }, june);
    await recordAudit(db, { type: 'secret_scanning.revoked', userId: grace.id, actor: 'system:secret-scanning', clientId: 'pca_two', detail: { token_type: 'access_token' } }, june + 1000);
    await runtime.close();
  });
  after(() => tessera.dispose());

  const types = async (...args: string[]) => {
    const result = await tessera('audit', ...args, '--json');
    assert.equal(result.status, 0, result.stderr);
    return (result.json().events as Array<{ type: string }>).map((event) => event.type);
  };

  it('lists events newest first, narrowed by user, client, type, date and count', async () => {
    assert.deepEqual(await types(), ['secret_scanning.revoked', 'token.revoked', 'consent.granted']);
    assert.deepEqual(await types('--user', 'Ada@Example.com'), ['token.revoked', 'consent.granted']);
    assert.deepEqual(await types('--client', 'pca_two'), ['secret_scanning.revoked']);
    assert.deepEqual(await types('--type', 'consent.granted'), ['consent.granted']);
    assert.deepEqual(await types('--since', '2024-03-01'), ['secret_scanning.revoked', 'token.revoked']);
    assert.deepEqual(await types('--user', 'ada@example.com', '--since', '2024-06-01T00:00:00Z', '--limit', '5'), ['token.revoked']);
    assert.deepEqual(await types('--limit', '1'), ['secret_scanning.revoked']);
  });

  it('prints each event with its time, actor, client and detail', async () => {
    const json = (await tessera('audit', '--type', 'consent.granted', '--json')).json().events[0];
    assert.deepEqual(
      { at: json.at, user_id: json.user_id, actor: json.actor, client_id: json.client_id, ip: json.ip, detail: json.detail },
      { at: '2024-01-15T10:00:00.000Z', user_id: adaId, actor: adaId, client_id: 'pca_one', ip: '203.0.113.7', detail: { scope: 'project:read' } },
    );
    const human = await tessera('audit', '--client', 'pca_one');
    assert.equal(human.status, 0, human.stderr);
    const lines = human.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, /^2024-01-15T10:00:00\.000Z {2}consent\.granted {2}actor=.* {2}client=pca_one {2}ip=203\.0\.113\.7 {2}\{"scope":"project:read"\}$/);
    assert.equal((await tessera('audit', '--since', '2030-01-01')).stdout.trim(), 'no audit events');
  });

  it('explains bad filters and exits non-zero', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--type', 'nonsense'], /--type must be one of/],
      [['--since', 'last tuesday'], /ISO 8601/],
      [['--since', '2024-13-45'], /ISO 8601/],
      [['--limit', '0'], /--limit/],
      [['--limit', 'many'], /--limit/],
      [['--user', 'nobody@example.com'], /no user/],
    ];
    for (const [args, message] of cases) {
      const result = await tessera('audit', ...args);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
    }
  });
});
