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

export function addServeCommands(program: Command, cli: Cli): void {
  program
    .command('start')
    .description('run the server (PORT, TESSERA_ISSUER, DATABASE_URL, REDIS_URL from the environment)')
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
