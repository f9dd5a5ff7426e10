/** `pastiche start` (what `npm start` runs): the playground, and Discord/Slack when configured. */
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { exitOnSignal } from './shutdown.ts';

/** Shutdown that takes longer than this is stuck; exit anyway. */
const SHUTDOWN_LIMIT_MS = 30_000;

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the playground (and Discord/Slack when their tokens are set)')
    .action(async () => {
      const config = loadConfig();
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

      exitOnSignal({
        message: 'finishing running jobs and closing …',
        limitMs: SHUTDOWN_LIMIT_MS,
        close: () => app.close(),
      });
    });
}
