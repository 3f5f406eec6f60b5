/** `tessera start|front|migrate|purge`: running the server or the region front, and its database chores. */
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { loadConfig, loadFrontConfig } from '../config.js';
import { startFront } from '../http/front.js';
import { closeOnSignals } from '../http/shutdown.js';
import { startServer } from '../server.js';
import { openStore } from '../store/index.js';
import { startBanner } from './banner.js';
import { json, type Cli, type Output } from './output.js';

/** Every failure a server expects is handled where it happens; one that is not is logged as a JSON line, not a crash. */
function logUnhandledRejections(app: FastifyInstance): void {
  process.on('unhandledRejection', (reason) => app.log.error({ err: { message: reason instanceof Error ? reason.message : String(reason) } }, 'unhandled rejection'));
}

const CONFIGURATION_HELP = `
Every setting is an environment variable; the most used:
  PORT             port to listen on (default 8080)
  HOST             address to bind (default 127.0.0.1)
  TESSERA_ISSUER   issuer and public base URL, e.g. https://auth.example.com
  DATABASE_URL     sqlite:<path> (default sqlite:./data/tessera.sqlite) or postgres://…
  REDIS_URL        optional: rate limits and client changes shared by every instance
  TESSERA_SECRET_KEY  32+ characters; required when the issuer is https
The configuration reference lists all of them with their defaults: docs/configuration.md in the
Tessera repository.`;

export function addServeCommands(program: Command, cli: Cli): void {
  program
    .command('start')
    .description('run the server (PORT, TESSERA_ISSUER, DATABASE_URL, REDIS_URL and more from the environment)')
    .addHelpText('after', CONFIGURATION_HELP)
    .action(async () => {
      const config = loadConfig(cli.io.env);
      const { app, runtime, ready } = await startServer(config);
      logUnhandledRejections(app);
      closeOnSignals(app, config.shutdownTimeoutSeconds);
      ready.then(
        (serving) => {
          if (!serving) return;
          startBanner(config, runtime, app.metricsPort).then(
            (banner) => cli.io.stderr.write(banner),
            (error: Error) => app.log.warn({ err: { message: error.message } }, 'the start banner could not be written'),
          );
        },
        (error: Error) => {
          app.log.fatal({ err: { message: error.message } }, 'the database could not be prepared');
          void app.close().finally(() => process.exit(1));
        },
      );
    });

  program
    .command('front')
    .description('run the region-agnostic front (PORT, TESSERA_ISSUER, TESSERA_REGIONS from the environment); it has no database')
    .addHelpText('after', CONFIGURATION_HELP)
    .action(async () => {
      const config = loadFrontConfig(cli.io.env);
      const app = await startFront(config);
      logUnhandledRejections(app);
      closeOnSignals(app, config.shutdownTimeoutSeconds);
    });

  program
    .command('migrate')
    .description('apply pending database migrations')
    .addOption(json())
    .action(async (options: Output) => {
      const config = loadConfig(cli.io.env);
      const store = openStore(config.databaseUrl, { timeoutMs: config.databaseTimeoutMs });
      try {
        const result = await store.migrate();
        const applied = (result.results ?? []).map((r) => r.migrationName);
        cli.print(options, { applied }, applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await store.close();
      }
    });

  program
    .command('purge')
    .description('delete expired access and refresh tokens, old authorization codes, expired sessions and expired email verification links (the server also does this every TESSERA_PURGE_INTERVAL seconds)')
    .addOption(json())
    .action(async (options: Output) => {
      const counts = await cli.withRuntime(({ ctx }) => ctx.store.purgeExpired(ctx.now()));
      const human = Object.entries(counts).map(([name, count]) => `${name}: ${count} deleted`).join('\n');
      cli.print(options, { deleted: counts }, human);
    });
}
