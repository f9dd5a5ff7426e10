/** `pastiche worker`: runs the engine for bots in `engine.mode: queue` (see docs/deployment.md). */
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { exitOnSignal } from './shutdown.ts';

/** A job that takes longer than this to drain is stuck; exit anyway (BullMQ retries it). */
const SHUTDOWN_LIMIT_MS = 150_000;

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run style jobs from the Redis queue (for bots with engine.mode=queue)')
    .action(async () => {
      const config = loadConfig();
      // Loaded here, so the other subcommands never load BullMQ or the engine.
      const { createEngine } = await import('../app.ts');
      const { queueSettings } = await import('../queue/settings.ts');
      const { startQueueWorker } = await import('../queue/worker.ts');
      const settings = queueSettings(config);
      const engine = await createEngine(config);
      if (engine.styles().length === 0) {
        await engine.close();
        console.error(`error: no style pack in ${config.modelsDir} (run \`pastiche models pull\`)`);
        process.exitCode = 1;
        return;
      }
      const worker = await startQueueWorker(engine, settings);
      // Tests and process managers wait for this line.
      console.log(`worker ready: queue ${settings.name}, concurrency ${settings.concurrency}`);

      exitOnSignal({
        message: 'finishing the running job(s) …',
        limitMs: SHUTDOWN_LIMIT_MS,
        close: async () => {
          await worker.close();
          await engine.close();
        },
      });
    });
}
