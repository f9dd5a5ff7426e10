/** `pastiche worker`: runs the engine for bots in `engine.mode: queue` (see docs/deployment.md). */
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.ts';

/** A job that takes longer than this to drain is stuck; exit anyway (BullMQ retries it). */
const SHUTDOWN_LIMIT_MS = 150_000;

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run style jobs from the Redis queue (for bots with engine.mode=queue)')
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

      const stop = (signal: NodeJS.Signals): void => {
        console.log(`${signal}: finishing the running job(s) …`);
        setTimeout(() => process.exit(1), SHUTDOWN_LIMIT_MS).unref();
        worker
          .close()
          .then(() => engine.close())
          .then(
            // ONNX Runtime's thread pool may hold the event loop open.
            () => process.exit(0),
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
