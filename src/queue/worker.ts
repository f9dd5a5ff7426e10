/**
 * The worker side of queue mode: a BullMQ Worker that runs jobs on a local `Engine`, reports
 * stages as job progress, and returns the result (image as base64) as the job's return value.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { type Engine, UserError } from '../engine/index.ts';
import { releasePriority } from './fairness.ts';
import {
  decodeRequest,
  encodeError,
  encodeResult,
  sideKeys,
  type JobData,
  type JobProgressData,
  type WireResult,
} from './protocol.ts';
import type { JobMetrics } from '../metrics.ts';
import type { QueueSettings } from './settings.ts';

export interface QueueWorker {
  /** Takes no new jobs, lets the running ones finish, then disconnects (the engine is the caller's). */
  close(): Promise<void>;
  /** Whether the connection to Redis is up (for `/readyz`). */
  connected(): boolean;
}

/** How often a running job checks whether its submitter cancelled it. */
const CANCEL_POLL_MS = 1000;

export async function startQueueWorker(
  engine: Engine,
  settings: QueueSettings,
  log: (line: string) => void = console.log,
  metrics?: JobMetrics,
): Promise<QueueWorker> {
  const keys = sideKeys(settings.keyPrefix, settings.name);
  const redis = new Redis(settings.url, { maxRetriesPerRequest: null });
  // Without a listener ioredis prints "Unhandled error event" on every reconnect attempt while
  // Redis is down; it reconnects on its own, so one line per error is enough.
  redis.on('error', (error: Error) => log(`worker: redis: ${error.message}`));
  // The bot lists styles from here, so it never opens a pack.
  await redis.set(keys.styles, JSON.stringify(engine.styles()));

  const run = async (job: Job<JobData, WireResult>): Promise<WireResult> => {
    let request: ReturnType<typeof decodeRequest>;
    try {
      request = decodeRequest(job.data);
    } catch (error) {
      // Malformed data in Redis fails the same way on every worker: no retry.
      throw new UnrecoverableError(encodeError(error));
    }
    // Released once per job: a retry (after a crash) was never counted again.
    if (job.attemptsStarted <= 1) await releasePriority(redis, keys.queued, request.userId);
    const handle = engine.submit(request);
    handle.on('stage', ({ stage }) => {
      const progress: JobProgressData = { stage };
      job.updateProgress(progress).catch(() => undefined);
    });
    const poll = setInterval(() => {
      redis.exists(keys.cancel(job.id ?? '')).then(
        (n) => n > 0 && handle.cancel(),
        () => undefined,
      );
    }, CANCEL_POLL_MS);
    try {
      const result = await handle.result.then(
        (r) => (metrics?.job({ result: r }), r),
        (error: unknown) => {
          metrics?.job({ error });
          throw error;
        },
      );
      const wire = encodeResult(result);
      if (wire.image.bytes64.length > settings.maxResultBytes) {
        throw new UserError('internal', `result of ${wire.image.bytes64.length} B over the cap`);
      }
      return wire;
    } catch (error) {
      // A user's mistake (bad photo, unknown style) fails the same way on every worker: no retry.
      if (error instanceof UserError) throw new UnrecoverableError(encodeError(error));
      throw error;
    } finally {
      clearInterval(poll);
    }
  };

  const worker = new Worker<JobData, WireResult>(settings.name, run, {
    connection: { url: settings.url, maxRetriesPerRequest: null },
    prefix: settings.keyPrefix,
    concurrency: settings.concurrency,
    lockDuration: settings.lockMs,
    stalledInterval: settings.stalledIntervalMs,
    // A job whose worker died is retried this many times before it fails for good.
    maxStalledCount: settings.attempts,
  });
  worker.on('error', (error) => log(`worker: ${String(error)}`));
  worker.on('failed', (job, error) =>
    log(`job ${job?.id ?? '?'} failed (attempt ${job?.attemptsMade ?? '?'}): ${error.message}`),
  );
  await worker.waitUntilReady();

  return {
    async close() {
      await worker.close();
      redis.disconnect();
    },
    connected: () => redis.status === 'ready' && worker.isRunning(),
  };
}
