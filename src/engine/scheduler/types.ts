import type { EventEmitter } from 'node:events';
import type { EncodedImage } from '../image/encode.ts';

/**
 * Stages a job's own code reports while it runs; `warming-up` while its style pack still loads
 * (just after a start or a restart of the inference host).
 */
export type JobStage = 'warming-up' | 'aligning' | 'encoding' | 'generating';

/** What a running job gets from the scheduler. */
export interface JobContext {
  readonly jobId: string;
  /**
   * Aborted when the job is cancelled or times out. Check it between stages: the scheduler moves
   * on at once either way, but a run that ignores it keeps using the CPU until it returns.
   */
  readonly signal: AbortSignal;
  /** Reports a stage; emitted as the job's `stage` event. Ignored once the job has settled. */
  stage(stage: JobStage): void;
  /** Reports a first look at the result; emitted as the job's `preview` event, like `stage`. */
  preview(image: EncodedImage): void;
}

/** One job of a batch, as the batch runner sees it. */
export interface BatchItem<I> extends JobContext {
  readonly input: I;
}

/**
 * Runs several compatible jobs in one call (e.g. one generator run at batch N). Returns one
 * result per item, in order; like DataLoader, an `Error` in a slot fails only that job, and a
 * throw fails them all. `signal` is aborted once every item is cancelled or timed out.
 */
export type BatchRunner<I, T> = (
  items: readonly BatchItem<I>[],
  signal: AbortSignal,
) => Promise<ReadonlyArray<T | Error>>;

/** Makes a job batchable with queued jobs that have the same `key` and the same `runner`. */
export interface BatchSpec<I, T> {
  /** What makes jobs compatible, e.g. `generate:${packChecksum}:${size}`. */
  readonly key: string;
  readonly input: I;
  readonly runner: BatchRunner<I, T>;
}

interface JobOptions {
  /** Fairness is per user: jobs of different users alternate within a priority. */
  readonly userId: string;
  /** Higher runs first; default 0. */
  readonly priority?: number;
  /** Running time allowed (queue time not counted); default the scheduler's. */
  readonly timeoutMs?: number;
}

/** A job: either its own `run`, or a `batch` spec that runs alone as a batch of one. */
export type JobSpec<T, I = unknown> = JobOptions &
  (
    | { readonly run: (ctx: JobContext) => Promise<T>; readonly batch?: never }
    | { readonly batch: BatchSpec<I, T>; readonly run?: never }
  );

/** Events of one job, in the order they can occur. */
export interface JobEvents<T> {
  /** Waiting; 1 runs next. Emitted again whenever the position changes. */
  queued: [{ position: number }];
  /** Left the queue and is running. */
  started: [];
  stage: [{ stage: JobStage }];
  /**
   * While `generating`, before `done`: a small JPEG of the result at a quarter of its side (the
   * generator's first look), where the style pack has a preview and the result is one picture.
   */
  preview: [{ image: EncodedImage }];
  done: [{ result: T }];
  /** Threw, or timed out (`UserError('timeout')`). */
  failed: [{ error: unknown }];
  cancelled: [];
}

/** A submitted job: its events, its result, and a way to cancel it. */
export interface JobHandle<T> extends EventEmitter<JobEvents<T>> {
  readonly id: string;
  /**
   * Settles exactly once: the run's result, its error, or `UserError('cancelled' | 'timeout')`.
   * A rejection nobody awaits is not reported as unhandled: the events already told.
   */
  readonly result: Promise<T>;
  /** Cancels a queued or running job; false if it had already settled. */
  cancel(): boolean;
}

export interface SchedulerOptions {
  /** Queued (not running) jobs allowed before `submit` throws `UserError('busy')`; default 100. */
  maxQueue?: number;
  /** Jobs one batch may hold; default 4. 1 turns batching off. */
  maxBatch?: number;
  /** Default per-job running time; default 120 s. */
  defaultTimeoutMs?: number;
}

/** A snapshot for health checks and tests. */
export interface SchedulerStats {
  queued: number;
  running: number;
  /** Runs the lane gave up on (cancelled or timed out) that have not returned yet. */
  detached: number;
}
