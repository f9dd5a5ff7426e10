/** `pastiche start` (what `npm start` runs): the playground, and Discord/Slack when configured. */
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.ts';

/** Shutdown that takes longer than this is stuck; exit anyway. */
const SHUTDOWN_LIMIT_MS = 30_000;

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the playground (and Discord/Slack when their tokens are set)')
    .action(async () => {
      let config;
      try {
        config = loadConfig();
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        console.error(`error: ${error.message}`);
        process.exitCode = 1;
        return;
      }
      // Loaded here, so the other subcommands never load the engine, the commands or esbuild.
      const { startApp } = await import('../app.ts');
      const app = await startApp({ config });
      const names = Object.keys(app.urls);
      if (names.length === 0) {
        console.error(
          'Nothing to start: the playground is disabled and no Discord or Slack token is set.',
        );
        await app.close();
        process.exitCode = 1;
        return;
      }
      for (const name of names) console.log(`${name}: ${app.urls[name]}`);
      console.log('Press Ctrl-C to stop.');

      // A second Ctrl-C finds no listener left and Node's default ends the process at once.
      const stop = (signal: NodeJS.Signals): void => {
        console.log(`\n${signal}: finishing running jobs and closing …`);
        setTimeout(() => {
          console.error('shutdown is taking too long; exiting');
          process.exit(1);
        }, SHUTDOWN_LIMIT_MS).unref();
        app.close().then(
          () => {
            console.log('stopped');
            // ONNX Runtime's thread pool and store clients may hold the event loop open.
            process.exit(0);
          },
          (error: unknown) => {
            console.error('error while stopping:', error);
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
