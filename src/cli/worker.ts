/** `pastiche worker`: runs the engine for bots in `engine.mode: queue` (see docs/deployment.md). */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import type { Engine } from '../engine/index.ts';
import type { HealthServer } from '../health-server.ts';
import type { Metrics } from '../metrics.ts';
import type { QueueWorker } from '../queue/worker.ts';
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
      const { createEngine, loggerFor } = await import('../app.ts');
      const { lineLog } = await import('../log.ts');
      const { Metrics } = await import('../metrics.ts');
      const { queueSettings } = await import('../queue/settings.ts');
      const { startQueueWorker } = await import('../queue/worker.ts');
      const settings = queueSettings(config);
      const logger = loggerFor(config).child({ role: 'worker' });
      const log = lineLog(logger);
      const engine = await createEngine(config, log);
      if (engine.styles().length === 0) {
        await engine.close();
        console.error(`error: no style pack in ${config.modelsDir} (run \`pastiche models pull\`)`);
        process.exitCode = 1;
        return;
      }
      const metrics = new Metrics(() => engine.health());
      const worker = await startQueueWorker(engine, settings, logger, metrics);
      const health = config.health.enabled
        ? await startWorkerHealth(config, metrics, worker, engine)
        : undefined;
      if (health) log(`health: ${health.url}healthz, ${health.url}readyz, ${health.url}metrics`);
      // Tests and process managers wait for this line.
      console.log(`worker ready: queue ${settings.name}, concurrency ${settings.concurrency}`);

      exitOnSignal({
        message: 'finishing the running job(s) …',
        limitMs: SHUTDOWN_LIMIT_MS,
        close: async () => {
          await worker.close();
          await health?.close();
          await engine.close();
        },
      });
    });
}

/**
 * The worker's `/healthz`, `/readyz`, `/metrics`. Ready: connected to Redis (BullMQ) and the
 * inference host not crashed (it starts on the first job, so `idle` is ready too).
 */
async function startWorkerHealth(
  config: Config,
  metrics: Metrics,
  worker: QueueWorker,
  engine: Engine,
): Promise<HealthServer> {
  const { startHealthServer } = await import('../health-server.ts');
  return startHealthServer({
    host: config.health.host,
    port: config.health.port,
    metrics,
    ready: {
      redis: () => worker.connected(),
      engine: () => ['idle', 'starting', 'ready'].includes(engine.health().state),
      packs: () => engine.styles().length > 0,
    },
  });
}
