/**
 * Jobs in progress in this process: what cancel and delete act on, and what the wait estimates
 * ("#3 in line, about 40 s"; "try again in ~2 min") are computed from.
 */
import type { JobHandle, StylizeResult } from '../engine/index.ts';
import type { WaitEstimates } from './limits.ts';

export interface ActiveJob {
  readonly handle: JobHandle<StylizeResult>;
  readonly owner: string;
  readonly channel: string;
  /** 1 runs next; 0 once running. */
  position: number;
  startedAt?: number;
  /** Settles (never rejects) once the job's final reply has been sent. */
  readonly finished: Promise<void>;
}

/** How much a new measurement moves the typical job time (exponential moving average). */
const SMOOTHING = 0.3;

/**
 * @example
 * const active = new ActiveJobs(10_000);
 * active.add({ handle, owner, channel, position: 1, finished });
 * active.estimates.queue(5); // ≈ 50 s before any measurement
 */
export class ActiveJobs {
  readonly #jobs = new Map<string, ActiveJob>();
  #typicalMs: number;

  /** @param typicalMs a guess at one job's running time, until jobs have been measured. */
  constructor(typicalMs: number) {
    this.#typicalMs = typicalMs;
  }

  get(jobId: string): ActiveJob | undefined {
    return this.#jobs.get(jobId);
  }

  add(job: ActiveJob): void {
    this.#jobs.set(job.handle.id, job);
  }

  remove(jobId: string): void {
    this.#jobs.delete(jobId);
  }

  all(): ActiveJob[] {
    return [...this.#jobs.values()];
  }

  /** Records a finished job's running time. */
  measured(ms: number): void {
    this.#typicalMs += SMOOTHING * (ms - this.#typicalMs);
  }

  /** Roughly when a job at `position` (0: running) will be done. */
  etaMs(position: number): number {
    return (position + 1) * this.#typicalMs;
  }

  readonly estimates: WaitEstimates = {
    owner: (owner) => this.#soonest((j) => j.owner === owner),
    channel: (channel) => this.#soonest((j) => j.channel === channel),
    queue: (length) => Math.max(1, length) * this.#typicalMs,
  };

  /** Until the first matching job here finishes; one typical job if none is (another process). */
  #soonest(match: (job: ActiveJob) => boolean): number {
    const positions = this.all()
      .filter(match)
      .map((j) => j.position);
    return positions.length > 0 ? this.etaMs(Math.min(...positions)) : this.#typicalMs;
  }
}
