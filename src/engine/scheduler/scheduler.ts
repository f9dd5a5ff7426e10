import { UserError } from '../errors.ts';
import { FairQueue } from './fair-queue.ts';
import { Job, type ErasedBatch, type Outcome } from './job.ts';
import type { BatchItem, JobHandle, JobSpec, SchedulerOptions, SchedulerStats } from './types.ts';

/** The batch (often of one) the lane is running. */
interface Run<T> {
  /** Members not yet settled; the lane moves on when this empties. */
  readonly pending: Set<Job<T>>;
  /** The batch runner's signal: aborted once no member is left waiting for it. */
  readonly abort: AbortController;
  invoked: boolean;
  returned: boolean;
  detached: boolean;
}

/**
 * One inference lane: jobs run one at a time (ONNX Runtime already uses every core), highest
 * priority first and round-robin by user within a priority (see `FairQueue`), with queue-position
 * and stage events, cancellation, a per-job timeout and batching of compatible jobs.
 *
 * No queue library: p-queue would give the one-at-a-time lane and priorities, but not per-user
 * fairness, taking several compatible jobs in one go, or moving on from a run that ignores its
 * abort signal; those are most of this file. Under issue 7 (BullMQ), the lane stays as is on each
 * worker and BullMQ replaces the process-local queue in front of it.
 *
 * Cancelling or timing out a running job rejects its `result` at once and the lane moves on,
 * whether or not the run honours `ctx.signal`. The abandoned run cannot be killed (it is a
 * promise, not a process): it is left to finish, its result or error is dropped, and it counts
 * in `stats().detached` until it returns. Meanwhile it competes with the next job for the CPU,
 * which is why runs should check the signal between stages.
 *
 * @example
 * const lane = new Scheduler<Result>({ maxQueue: 100, maxBatch: 4 });
 * const job = lane.submit({ userId: 'u1', run: async (ctx) => {
 *   ctx.stage('encoding'); const code = await encode(photo, ctx.signal);
 *   ctx.stage('generating'); return generate(code);
 * } });
 * job.on('queued', ({ position }) => reply(`You're #${position}`));
 * const result = await job.result;
 *
 * // Generate-only jobs on the same pack and size run as one generator call:
 * const generateMany: BatchRunner<GenInput, Result> = async (items, signal) =>
 *   generator.run(items.map((i) => i.input), signal);
 * lane.submit({ userId: 'u2', batch: { key: `gen:${pack}:${size}`, input, runner: generateMany } });
 */
export class Scheduler<T> {
  readonly #queue = new FairQueue<Job<T>>();
  readonly #maxQueue: number;
  readonly #maxBatch: number;
  readonly #defaultTimeoutMs: number;
  #current: Run<T> | undefined;
  #detached = 0;
  #closed = false;
  #scheduled = false;

  constructor(options: SchedulerOptions = {}) {
    this.#maxQueue = positive('maxQueue', options.maxQueue ?? 100, true);
    this.#maxBatch = positive('maxBatch', options.maxBatch ?? 4, true);
    this.#defaultTimeoutMs = positive('defaultTimeoutMs', options.defaultTimeoutMs ?? 120_000);
  }

  /**
   * Queues a job. Events start on a later microtask, so listeners attached right after `submit`
   * see them all. Throws `UserError('busy')` when the queue is full or the lane closed.
   */
  submit<I>(spec: JobSpec<T, I>): JobHandle<T> {
    if (this.#closed) throw new UserError('busy', 'scheduler closed');
    if (this.#queue.size >= this.#maxQueue) {
      throw new UserError('busy', `${this.#queue.size} jobs queued`);
    }
    if (!spec.userId) throw new RangeError('job userId must not be empty');
    if (!spec.run === !spec.batch) throw new TypeError('a job needs exactly one of run or batch');
    const batch: ErasedBatch<T> | undefined = spec.batch && {
      key: spec.batch.key,
      input: spec.batch.input,
      runner: spec.batch.runner,
    };
    const job = new Job<T>(
      {
        userId: spec.userId,
        priority: finite('priority', spec.priority ?? 0),
        timeoutMs: positive('timeoutMs', spec.timeoutMs ?? this.#defaultTimeoutMs),
        run: spec.run,
        batch,
      },
      (j) => this.#cancel(j, new UserError('cancelled')),
    );
    this.#queue.push(job);
    this.#schedule();
    return job;
  }

  stats(): SchedulerStats {
    return {
      queued: this.#queue.size,
      running: this.#current?.pending.size ?? 0,
      detached: this.#detached,
    };
  }

  /** Cancels every queued and running job and refuses new ones. */
  close(): void {
    this.#closed = true;
    const closing = () => new UserError('cancelled', 'scheduler closed');
    for (const job of this.#queue.ordered()) this.#cancel(job, closing());
    for (const job of this.#current?.pending ?? []) this.#cancel(job, closing());
  }

  #cancel(job: Job<T>, error: UserError): boolean {
    if (job.state === 'queued') this.#queue.remove(job);
    if (!job.abort(error, 'cancelled')) return false;
    this.#released(job);
    return true;
  }

  #timeout(job: Job<T>): void {
    const error = new UserError('timeout', `ran longer than ${job.timeoutMs} ms`);
    if (job.abort(error, 'failed')) this.#released(job);
  }

  /** A job settled without its run's result: the lane moves on once its batch has no one left. */
  #released(job: Job<T>): void {
    const run = this.#current;
    if (run?.pending.delete(job) && run.pending.size === 0) {
      if (run.invoked && !run.returned) {
        run.detached = true;
        this.#detached++;
      }
      run.abort.abort();
      this.#current = undefined;
    }
    this.#schedule();
  }

  /** Coalesces state changes into one dispatch + position report per microtask. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#dispatch();
      this.#queue.ordered().forEach((job, i) => job.reportPosition(i + 1));
    });
  }

  #dispatch(): void {
    if (this.#current || this.#closed) return;
    const leader = this.#queue.shift();
    if (!leader) return;
    const key = leader.batch?.key;
    const runner = leader.batch?.runner;
    const members = [leader];
    if (runner && this.#maxBatch > 1) {
      const compatible = (j: Job<T>) => j.batch?.key === key && j.batch?.runner === runner;
      members.push(...this.#queue.takeWhere(compatible, this.#maxBatch - 1));
    }
    const run: Run<T> = {
      pending: new Set(members),
      abort: new AbortController(),
      invoked: false,
      returned: false,
      detached: false,
    };
    this.#current = run;
    // `started` listeners may cancel, so only the members still running are invoked.
    for (const job of members) job.start((j) => this.#timeout(j));
    if (this.#current !== run) return;
    run.invoked = true;
    void this.#execute(run, [...run.pending]);
  }

  async #execute(run: Run<T>, members: Job<T>[]): Promise<void> {
    const outcomes = await invoke(members, run.abort.signal);
    run.returned = true;
    outcomes.forEach((outcome, i) => members[i]?.finish(outcome));
    if (run.detached) {
      this.#detached--;
    } else if (this.#current === run) {
      this.#current = undefined;
      this.#schedule();
    }
  }
}

/** Runs a job or a batch; never rejects, so each member gets an outcome. */
async function invoke<T>(members: Job<T>[], signal: AbortSignal): Promise<Outcome<T>[]> {
  const [leader] = members;
  try {
    if (!leader) return [];
    if (leader.run) return [{ ok: true, value: await leader.run(leader.context) }];
    const batch = leader.batch;
    if (!batch) throw new TypeError('job has neither run nor batch');
    // Every member was grouped by this very runner, so every input has the runner's input type.
    const items = members.map((j) => ({
      ...j.context,
      input: j.batch?.input,
    })) as BatchItem<never>[];
    const results = await batch.runner(items, signal);
    if (results.length !== members.length) {
      throw new Error(`batch ${batch.key}: ${results.length} results for ${members.length} jobs`);
    }
    return results.map((r) =>
      r instanceof Error ? { ok: false, error: r } : { ok: true, value: r },
    );
  } catch (error) {
    return members.map(() => ({ ok: false, error }));
  }
}

function positive(name: string, value: number, integer = false): number {
  if (!(value > 0 && Number.isFinite(value)) || (integer && !Number.isInteger(value))) {
    throw new RangeError(
      `${name} must be a positive ${integer ? 'integer' : 'number'}, not ${value}`,
    );
  }
  return value;
}

function finite(name: string, value: number): number {
  if (!Number.isFinite(value))
    throw new RangeError(`${name} must be a finite number, not ${value}`);
  return value;
}
