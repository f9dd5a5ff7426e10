import { randomUUID } from 'node:crypto';

import type { FairItem } from './fair-queue.ts';
import { JobEmitter } from './job-emitter.ts';
import type { BatchRunner, JobContext, JobHandle, JobStage } from './types.ts';

/** A batch spec with its input type erased, so jobs of any batch kind share one queue. */
export interface ErasedBatch<T> {
  readonly key: string;
  readonly runner: BatchRunner<never, T>;
  readonly input: unknown;
}

/** A job spec after validation and defaults. */
export interface JobInit<T> {
  readonly userId: string;
  readonly priority: number;
  readonly timeoutMs: number;
  readonly run: ((ctx: JobContext) => Promise<T>) | undefined;
  readonly batch: ErasedBatch<T> | undefined;
}

/** How a run ended for one job. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * One job: its spec, its state, and the handle its submitter holds. Settles exactly once;
 * whatever arrives later (a result from a run the lane gave up on) is dropped.
 */
export class Job<T> extends JobEmitter<T> implements JobHandle<T>, FairItem {
  readonly id = randomUUID();
  readonly userId: string;
  readonly priority: number;
  readonly timeoutMs: number;
  readonly run: ((ctx: JobContext) => Promise<T>) | undefined;
  readonly batch: ErasedBatch<T> | undefined;
  readonly result: Promise<T>;
  readonly context: JobContext;

  state: 'queued' | 'running' | 'settled' = 'queued';
  #position = 0;

  readonly #controller = new AbortController();
  readonly #onCancel: (job: Job<T>) => boolean;
  #timer: NodeJS.Timeout | undefined;
  #settle!: (outcome: Outcome<T>) => void;

  constructor(init: JobInit<T>, onCancel: (job: Job<T>) => boolean) {
    super();
    this.userId = init.userId;
    this.priority = init.priority;
    this.timeoutMs = init.timeoutMs;
    this.run = init.run;
    this.batch = init.batch;
    this.#onCancel = onCancel;
    this.result = new Promise<T>((resolve, reject) => {
      this.#settle = (o) => (o.ok ? resolve(o.value) : reject(o.error));
    });
    // Marks the promise handled: a caller that only listens to events must not crash the process.
    this.result.catch(() => undefined);
    this.context = {
      jobId: this.id,
      signal: this.#controller.signal,
      stage: (stage: JobStage) => {
        if (this.state === 'running') this.tell('stage', { stage });
      },
      preview: (image) => {
        if (this.state === 'running') this.tell('preview', { image });
      },
    };
  }

  cancel(): boolean {
    return this.#onCancel(this);
  }

  /** Moves to running and starts the timeout clock. */
  start(onTimeout: (job: Job<T>) => void): void {
    // A `started` listener of an earlier batch member may have cancelled this one already.
    if (this.state !== 'queued') return;
    this.state = 'running';
    this.#timer = setTimeout(() => onTimeout(this), this.timeoutMs);
    this.tell('started');
  }

  /** Settles with the run's outcome; false if already settled. */
  finish(outcome: Outcome<T>): boolean {
    if (this.state === 'settled') return false;
    this.#close();
    this.#settle(outcome);
    if (outcome.ok) this.tell('done', { result: outcome.value });
    else this.tell('failed', { error: outcome.error });
    return true;
  }

  /**
   * Settles without the run's outcome (cancelled, timed out): aborts the signal first, so a run
   * that checks it stops, then rejects at once without waiting for the run to notice.
   */
  abort(error: Error, event: 'cancelled' | 'failed'): boolean {
    if (this.state === 'settled') return false;
    this.#close();
    this.#controller.abort(error);
    this.#settle({ ok: false, error });
    if (event === 'cancelled') this.tell('cancelled');
    else this.tell('failed', { error });
    return true;
  }

  /** Reports a position change; no event when it did not change. */
  reportPosition(position: number): void {
    if (position === this.#position) return;
    this.#position = position;
    this.tell('queued', { position });
  }

  #close(): void {
    clearTimeout(this.#timer);
    this.state = 'settled';
  }
}
