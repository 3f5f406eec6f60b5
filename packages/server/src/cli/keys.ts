/** `tessera keys list|rotate`: the ID token signing keys. */
import { Option, type Command } from 'commander';
import { ID_TOKEN_ALGS, isIdTokenAlg } from '../core/clients/client.js';
import { listSigningKeys, rotateSigningKey, type SigningKeyInfo } from '../core/oidc/signing-keys.js';
import { iso, json, UsageError, type Cli, type Output } from './output.js';

function describe(key: SigningKeyInfo) {
  return { kid: key.kid, alg: key.alg, status: key.status, signs_from: iso(key.signsFrom), retired_at: iso(key.retiredAt), leaves_jwks_at: iso(key.unpublishAt) };
}

function line(key: SigningKeyInfo): string {
  const when = key.status === 'pending' ? `signs from ${iso(key.signsFrom)}` : key.unpublishAt ? `leaves the JWKS at ${iso(key.unpublishAt)}` : 'signing';
  return `${key.kid}  ${key.alg}  ${key.status.padEnd(7)}  ${when}`;
}

export function addKeyCommands(program: Command, cli: Cli): void {
  const keys = program.command('keys').description('manage ID token signing keys');
  keys
    .command('list')
    .description('list signing keys and their status')
    .addOption(json())
    .action(async (options: Output) => {
      const listed = await cli.withRuntime(({ ctx }) => listSigningKeys(ctx.store, ctx.config, ctx.now()));
      cli.print(options, { keys: listed.map(describe) }, listed.map(line).join('\n'));
    });
  keys
    .command('rotate')
    .description('publish a new signing key; it signs after TESSERA_KEY_PUBLISH_DELAY seconds')
    .addOption(new Option('--alg <alg>', 'the algorithm to rotate').choices([...ID_TOKEN_ALGS]).default('RS256'))
    .option('--immediately', 'sign with the new key at once (for a compromised key)')
    .addOption(json())
    .action(async (options: Output & { alg: string; immediately?: boolean }) => {
      if (!isIdTokenAlg(options.alg)) throw new UsageError(`--alg must be one of ${ID_TOKEN_ALGS.join(', ')}`);
      const alg = options.alg;
      const result = await cli.withRuntime(({ ctx }) => rotateSigningKey(ctx.store, ctx.config, alg, ctx.now(), { immediately: options.immediately ?? false }));
      const human = [`new ${alg} key ${result.created.kid}: published now, ${line(result.created)}`, ...result.deleted.map((kid) => `deleted expired key ${kid}`)].join('\n');
      cli.print(options, { created: describe(result.created), deleted: result.deleted }, human);
    });
}
