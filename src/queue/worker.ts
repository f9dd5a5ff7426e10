/**
 * The worker side of queue mode: a BullMQ Worker that runs jobs on a local `Engine`, reports
 * stages as job progress, and returns the result (image as base64) as the job's return value.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { type Engine, PasticheError, UserError } from '../engine/index.ts';
import { queueConnection, queueRedis } from '../stores/redis.ts';
import type { Logger } from '../log.ts';
import { releasePriority } from './fairness.ts';
import {
  decodeRequest,
  encodeError,
  encodePreview,
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

/**
 * A user's mistake (bad photo, unknown style, a refusal) fails the same way on every worker, so
 * BullMQ must not retry it; anything else (a crash, a lost model) may succeed on another try.
 */
function noRetryForUsers(error: unknown): unknown {
  return error instanceof UserError ? new UnrecoverableError(encodeError(error)) : error;
}

/** How often a running job checks whether its submitter cancelled it. */
const CANCEL_POLL_MS = 1000;

export async function startQueueWorker(
  engine: Engine,
  settings: QueueSettings,
  logger: Logger,
  metrics?: JobMetrics,
): Promise<QueueWorker> {
  const keys = sideKeys(settings.keyPrefix, settings.name);
  const redis = queueRedis(settings.url, {
    blocking: true,
    onError: (error) => logger.warn({ err: error }, 'worker: redis'),
  });
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
    const log = logger.child({
      jobId: job.id,
      userId: request.userId,
      ...(request.requestId && { requestId: request.requestId }),
    });
    let handle: ReturnType<Engine['submit']>;
    try {
      handle = engine.submit(request);
    } catch (error) {
      // Refused before it ran (the request does not parse, the engine is shutting down).
      throw noRetryForUsers(error);
    }
    handle.on('stage', ({ stage }) => {
      const progress: JobProgressData = { stage };
      job.updateProgress(progress).catch(() => undefined);
    });
    handle.on('preview', ({ image }) => {
      job.updateProgress(encodePreview(image)).catch(() => undefined);
    });
    const poll = setInterval(() => {
      redis.exists(keys.cancel(job.id ?? '')).then(
        (n) => n > 0 && handle.cancel(),
        () => undefined,
      );
    }, CANCEL_POLL_MS);
    try {
      const result = await handle.result.then(
        (r) => {
          metrics?.job({ result: r });
          log.info({ outcome: 'ok', attempt: job.attemptsStarted }, 'job finished');
          return r;
        },
        (error: unknown) => {
          metrics?.job({ error });
          const outcome = error instanceof PasticheError ? error.code : 'internal';
          log.info({ outcome, attempt: job.attemptsStarted }, 'job finished');
          throw error;
        },
      );
      const wire = encodeResult(result);
      if (wire.image.bytes64.length > settings.maxResultBytes) {
        throw new UserError('internal', `result of ${wire.image.bytes64.length} B over the cap`);
      }
      return wire;
    } catch (error) {
      throw noRetryForUsers(error);
    } finally {
      clearInterval(poll);
    }
  };

  const worker = new Worker<JobData, WireResult>(settings.name, run, {
    connection: queueConnection(settings.url, true),
    prefix: settings.keyPrefix,
    concurrency: settings.concurrency,
    lockDuration: settings.lockMs,
    stalledInterval: settings.stalledIntervalMs,
    // A job whose worker died is retried this many times before it fails for good.
    maxStalledCount: settings.attempts,
  });
  worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
  worker.on('failed', (job, error) =>
    logger.warn(
      {
        jobId: job?.id,
        // Unvalidated (the data may be what failed): pino writes whatever it is as JSON.
        userId: (job?.data.request as { userId?: unknown } | undefined)?.userId,
        requestId: (job?.data.request as { requestId?: unknown } | undefined)?.requestId,
        attempt: job?.attemptsMade,
        err: error,
      },
      'job failed',
    ),
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
