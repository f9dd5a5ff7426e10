/**
 * The bot-side handle of a job that runs on a worker: the same events and promise as the local
 * scheduler's handle, driven by BullMQ's QueueEvents and the facade's poller. It settles exactly
 * once, so a job retried after a worker crash still gives its submitter one result.
 */
import {
  JobEmitter,
  type EncodedImage,
  type JobHandle,
  type JobStage,
  type StylizeResult,
} from '../engine/index.ts';

export class RemoteJob extends JobEmitter<StylizeResult> implements JobHandle<StylizeResult> {
  readonly result: Promise<StylizeResult>;
  state: 'queued' | 'running' | 'settled' = 'queued';
  #position = 0;
  #resolve!: (value: StylizeResult) => void;
  #reject!: (error: unknown) => void;

  constructor(
    readonly id: string,
    readonly userId: string,
    private readonly onCancel: (job: RemoteJob) => boolean,
  ) {
    super();
    this.result = new Promise<StylizeResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Like the local handle: a caller that only listens to events must not crash the process.
    this.result.catch(() => undefined);
  }

  cancel(): boolean {
    return this.onCancel(this);
  }

  reportPosition(position: number): void {
    if (this.state !== 'queued' || position === this.#position) return;
    this.#position = position;
    this.tell('queued', { position });
  }

  /** Also re-entered after a stalled worker: a retried job stays `running` for its submitter. */
  start(): void {
    if (this.state !== 'queued') return;
    this.state = 'running';
    this.tell('started');
  }

  stage(stage: JobStage): void {
    // A stage may arrive before `active` (separate Redis stream entries, same order, but the
    // poller may have seen neither); it implies the job started.
    this.start();
    if (this.state === 'running') this.tell('stage', { stage });
  }

  /** A preview implies the job runs, like a stage; one arriving after the result is dropped. */
  preview(image: EncodedImage): void {
    this.start();
    if (this.state === 'running') this.tell('preview', { image });
  }

  finish(result: StylizeResult): boolean {
    if (this.state === 'settled') return false;
    this.state = 'settled';
    this.#resolve(result);
    this.tell('done', { result });
    return true;
  }

  fail(error: Error, event: 'failed' | 'cancelled' = 'failed'): boolean {
    if (this.state === 'settled') return false;
    this.state = 'settled';
    this.#reject(error);
    if (event === 'cancelled') this.tell('cancelled');
    else this.tell('failed', { error });
    return true;
  }
}
