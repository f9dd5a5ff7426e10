/**
 * The engine the bot uses in `engine.mode: queue`: the same surface as `Engine` (submit, stylize,
 * styles, forget, preload, close), but jobs run on `pastiche worker` processes through BullMQ, so
 * this process never loads a model. Events come from QueueEvents (a Redis stream, so nothing is
 * lost while the bot reads) and a poller that also reports queue positions and settles a job
 * whose final event was missed (e.g. across a Redis restart).
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueConnection, queueRedis } from '../stores/redis.ts';
import {
  createLatentCache,
  type EngineApi,
  type EngineHealth,
  type JobHandle,
  type LatentCache,
  latentNamespace,
  parseRequest,
  type StyleInfo,
  type StylizeRequest,
  type StylizeResult,
  UserError,
} from '../engine/index.ts';
import { claimPriority, releasePriority } from './fairness.ts';
import {
  decodeError,
  decodeProgress,
  decodeResult,
  decodeStyles,
  encodeRequest,
  sideKeys,
  type JobData,
  type WireResult,
} from './protocol.ts';
import { RemoteJob } from './remote-job.ts';
import type { QueueSettings } from './settings.ts';

export type { EngineApi };

export interface RemoteEngineOptions extends QueueSettings {
  /** The shared latent cache (keyv over Redis), for `forget`. */
  cacheUrl: string;
  /** How often queue positions (and missed events) are checked; default 1 s. */
  pollMs?: number;
  /** Unexpected errors (Redis down, a lost enqueue); default `console.error`. */
  onError?: (error: unknown) => void;
}

type QueueJob = Job<JobData, WireResult>;

export class RemoteEngine implements EngineApi {
  readonly #jobs = new Map<string, RemoteJob>();
  /** Jobs known to be in Redis; the poller must not take a job still being added for lost. */
  readonly #enqueued = new Set<string>();
  #styles: StyleInfo[] = [];
  /** The last malformed styles value reported, so the poller does not report it every second. */
  #badStyles: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  private constructor(
    private readonly options: RemoteEngineOptions,
    private readonly queue: Queue<JobData, WireResult>,
    private readonly events: QueueEvents,
    private readonly redis: Redis,
    private readonly cache: LatentCache,
  ) {}

  /** Connects, waits for the event stream (so no job's events are missed) and reads the styles. */
  static async create(options: RemoteEngineOptions): Promise<RemoteEngine> {
    // The bot fails a Redis call after a few retries rather than hanging a user's command;
    // ioredis reconnects on its own either way.
    const prefix = options.keyPrefix;
    const queue = new Queue<JobData, WireResult>(options.name, {
      connection: queueConnection(options.url, false),
      prefix,
    });
    // The event stream blocks on XREAD; it must wait through a reconnect, not fail.
    const events = new QueueEvents(options.name, {
      connection: queueConnection(options.url, true),
      prefix,
    });
    options = {
      ...options,
      onError: options.onError ?? ((error) => console.error('queue:', error)),
    };
    // Errors go where the queue's own go.
    const redis = queueRedis(options.url, {
      blocking: false,
      onError: (error) => options.onError?.(error),
    });
    const cache = await createLatentCache({
      url: options.cacheUrl,
      namespace: latentNamespace(options.keyPrefix),
    });
    const engine = new RemoteEngine(options, queue, events, redis, cache);
    engine.#listen();
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    await engine.#refreshStyles();
    engine.#timer = setInterval(() => void engine.#poll(), options.pollMs ?? 1000);
    engine.#timer.unref();
    return engine;
  }

  /** The styles the workers published; refreshed by the poller. */
  styles(): StyleInfo[] {
    return this.#styles;
  }

  /** The workers run the models and report their own health; this side only relays. */
  health(): EngineHealth {
    // Jobs this bot waits for, queued or running on some worker.
    return {
      state: 'remote',
      restarts: 0,
      packs: [],
      jobs: { queued: this.#jobs.size, running: 0, detached: 0 },
      redisReady: this.redis.status === 'ready',
    };
  }

  /** The workers load models; nothing to do here. */
  async preload(): Promise<void> {}

  async forget(userId: string): Promise<number> {
    return this.cache.forget(userId);
  }

  /** The workers keep photos in the shared cache: deleted from here like the codes. */
  async forgetPhoto(userId: string, photoKey: string): Promise<boolean> {
    return this.cache.deletePhoto(photoKey, userId);
  }

  /** Validates at once (like the local engine), then enqueues in the background. */
  submit(request: StylizeRequest): JobHandle<StylizeResult> {
    const parsed = parseRequest(request);
    const data = encodeRequest(request, this.options.maxRequestBytes);
    const job = new RemoteJob(randomUUID(), parsed.userId, (j) => this.#cancel(j));
    this.#jobs.set(job.id, job);
    this.#enqueue(job, data, parsed.priority).then(
      () => this.#enqueued.add(job.id),
      (error: unknown) => {
        this.options.onError?.(error);
        job.fail(new UserError('busy', `enqueue failed: ${String(error)}`));
        this.#jobs.delete(job.id);
      },
    );
    return job;
  }

  async stylize(request: StylizeRequest): Promise<StylizeResult> {
    return this.submit(request).result;
  }

  /** Stops relaying; jobs still queued stay in Redis (a worker runs them; nobody posts them). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const job of this.#jobs.values())
      job.fail(new UserError('cancelled', 'bot closing'), 'cancelled');
    this.#jobs.clear();
    await Promise.allSettled([this.events.close(), this.queue.close(), this.cache.close()]);
    this.redis.disconnect();
  }

  async #enqueue(job: RemoteJob, data: JobData, requested: number): Promise<void> {
    const keys = sideKeys(this.options.keyPrefix, this.options.name);
    const priority = await claimPriority(this.redis, keys.queued, job.userId, requested);
    await this.queue.add('stylize', data, {
      jobId: job.id,
      priority,
      attempts: this.options.attempts,
      // A crash is retried at once; the backoff is for errors that may pass (Redis blips).
      backoff: { type: 'fixed', delay: 500 },
      // The result is read back from the job; an hour is plenty, and bounds Redis memory.
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 86_400 },
    });
  }

  #cancel(job: RemoteJob): boolean {
    if (job.state === 'settled') return false;
    job.fail(new UserError('cancelled'), 'cancelled');
    this.#jobs.delete(job.id);
    this.#enqueued.delete(job.id);
    void (async () => {
      const keys = sideKeys(this.options.keyPrefix, this.options.name);
      // A waiting job is removed; an active one sees the flag and its worker aborts it.
      await this.redis.set(keys.cancel(job.id), '1', 'EX', 3600);
      const removed = await this.queue.remove(job.id).catch(() => 0);
      if (removed === 1) await releasePriority(this.redis, keys.queued, job.userId);
    })().catch(this.options.onError ?? (() => undefined));
    return true;
  }

  #listen(): void {
    this.events.on('active', ({ jobId }) => this.#jobs.get(jobId)?.start());
    this.events.on('progress', ({ jobId, data }) => {
      const progress = decodeProgress(data);
      if (!progress) return;
      if ('stage' in progress) this.#jobs.get(jobId)?.stage(progress.stage);
      else this.#jobs.get(jobId)?.preview(progress.preview);
    });
    this.events.on('completed', ({ jobId }) => void this.#settle(jobId));
    this.events.on('failed', ({ jobId }) => void this.#settle(jobId));
    this.events.on('error', (error) => this.options.onError?.(error));
  }

  /** Reads a finished job's outcome from its record (the event carries no attempts count). */
  async #settle(jobId: string): Promise<void> {
    const job = this.#jobs.get(jobId);
    if (!job) return;
    try {
      const record: QueueJob | undefined = await this.queue.getJob(jobId);
      if (!record) {
        job.fail(new UserError('internal', `job ${jobId} vanished from the queue`));
      } else if (record.finishedOn && record.failedReason) {
        job.fail(decodeError(String(record.failedReason), record.attemptsMade));
      } else if (record.finishedOn && record.returnvalue) {
        let result: StylizeResult;
        try {
          result = decodeResult(record.returnvalue);
        } catch (error) {
          job.fail(error as UserError);
          this.#jobs.delete(jobId);
          this.#enqueued.delete(jobId);
          return;
        }
        job.finish(result);
      } else {
        return;
      }
      this.#jobs.delete(jobId);
      this.#enqueued.delete(jobId);
    } catch (error) {
      // Redis unreachable: the poller tries again.
      this.options.onError?.(error);
    }
  }

  /** Positions of this bot's waiting jobs; settles those whose final event was missed. */
  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      await this.#refreshStyles();
      if (this.#jobs.size === 0) return;
      // Prioritized jobs in run order, then plain waiting ones (none: every job has a priority).
      const ids = await this.queue.getRanges(['prioritized', 'waiting'], 0, -1, true);
      const rank = new Map(ids.map((id, i) => [id, i + 1]));
      for (const job of [...this.#jobs.values()]) {
        const position = rank.get(job.id);
        if (position !== undefined) job.reportPosition(position);
        else if (this.#enqueued.has(job.id)) await this.#settle(job.id);
      }
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.#polling = false;
    }
  }

  /** Keeps the last good list when the published one is malformed (reported once per value). */
  async #refreshStyles(): Promise<void> {
    const raw = await this.redis.get(sideKeys(this.options.keyPrefix, this.options.name).styles);
    if (raw === null) return;
    const styles = decodeStyles(raw);
    if (!(styles instanceof Error)) {
      this.#styles = styles;
      this.#badStyles = undefined;
    } else if (raw !== this.#badStyles) {
      this.#badStyles = raw;
      this.options.onError?.(styles);
    }
  }
}
