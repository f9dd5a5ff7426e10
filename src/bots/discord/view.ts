/**
 * One command's replies on one surface: the status message edited at most once a second (the
 * latest status wins; the job's preview, when it comes, is one such edit), then the result, info
 * or error in its place. Calls to the surface run one
 * at a time, in order, so a late status edit never overwrites the result.
 */
import type { Reply, ReplySink } from '../../commands/index.ts';
import { fitImage } from './fit.ts';
import { isPermissionError } from './permissions.ts';
import { infoMessage, resultMessage, statusMessage, textMessage } from './render.ts';
import type { MessageRef } from './ids.ts';
import type { Surface } from './surface.ts';

/** Discord asks bots to edit a progress message about once a second at most. */
export const STATUS_INTERVAL_MS = 1000;

export interface ViewOptions {
  /** Told the id of each result message, to map reactions on it to the job. */
  onResult?: (messageId: string, jobId: string) => Promise<void>;
  /**
   * Discord refused to show a reply for want of a permission: cancel the job and give the quota
   * back (the user should not pay for what they cannot see), and say what is missing.
   */
  onDenied?: (jobId: string | undefined, error: unknown) => Promise<string>;
  /** Ends the job (when it was stopped from outside: see {@link JobView.stop}). */
  onStop?: (jobId: string | undefined) => Promise<void>;
  /** The message the photo came from, for the result's whole-photo button. */
  photoSource?: MessageRef;
  log: (line: string) => void;
}

type Status = Extract<Reply, { kind: 'status' }>;

export class JobView {
  #chain: Promise<void> = Promise.resolve();
  #pending: Status | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastStatusAt = -Infinity;
  /** Set once a result, info or error has been shown: later statuses are stale. */
  #final = false;
  /** The status message is the command's one message until a final reply takes its place. */
  #shown = false;
  /** Stopped from outside: the job's own later replies are not shown. */
  #stopped = false;
  #jobId: string | undefined;
  /** How to end the job once its id is known, if it was stopped before. */
  #endLater: ((jobId: string) => Promise<void>) | undefined;

  constructor(
    private readonly surface: Surface,
    private readonly o: ViewOptions,
  ) {}

  readonly sink: ReplySink = (reply) => {
    if ((reply.kind === 'status' || reply.kind === 'result') && this.#jobId === undefined) {
      this.#jobId = reply.jobId;
      // Stopped before the job had said its id: it is ended now.
      if (this.#stopped && this.#endLater) void this.#endLater(reply.jobId);
    }
    if (this.#stopped) return;
    if (reply.kind === 'status') {
      if (!this.#final) this.#status(reply);
      return;
    }
    this.#dropStatus();
    const first = !this.#final;
    this.#final = true;
    this.#enqueue(() => this.#render(reply, first));
  };

  /**
   * Ends the command with `text` in place of its status: the job is cancelled through
   * `onStop`, and its own replies after this are not shown.
   */
  stop(text: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#final = true;
    this.#dropStatus();
    const jobId = this.#jobId;
    const { onStop } = this.o;
    if (jobId === undefined && onStop) this.#endLater = (id) => this.#quietly(() => onStop(id));
    this.#enqueue(async () => {
      if (jobId !== undefined) await onStop?.(jobId);
      await this.surface.fail(text);
    });
  }

  /** Waits for everything enqueued to reach Discord. */
  async done(): Promise<void> {
    this.#dropStatus();
    await this.#chain;
  }

  #status(reply: Status): void {
    this.#pending = reply;
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastStatusAt + STATUS_INTERVAL_MS - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const latest = this.#pending;
      this.#pending = undefined;
      if (!latest || this.#final) return;
      this.#lastStatusAt = Date.now();
      this.#enqueue(async () => {
        if (this.#final) return;
        await this.surface.show(statusMessage(latest), 'status');
        this.#shown = true;
      });
    }, wait);
  }

  #dropStatus(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
  }

  async #render(reply: Exclude<Reply, Status>, first: boolean): Promise<void> {
    const { surface } = this;
    switch (reply.kind) {
      case 'result': {
        const image = await fitImage(reply.image, surface.uploadLimit);
        const message = resultMessage(reply, image, this.o.photoSource);
        const id = first ? await surface.show(message) : await surface.add(message);
        if (id) await this.o.onResult?.(id, reply.jobId);
        return;
      }
      case 'info':
        await (first ? surface.show(infoMessage(reply)) : surface.add(infoMessage(reply)));
        return;
      case 'error':
        // After a result, the message is that result: an error is a message of its own.
        if (!first) await surface.add(textMessage(reply.text));
        // A cancelled job's status message says so in place; other failures are private.
        else if (reply.code === 'cancelled' && this.#shown)
          await surface.show(textMessage(`✖️ ${reply.text}`));
        else await surface.fail(reply.text);
    }
  }

  #enqueue(step: () => Promise<void>): void {
    this.#chain = this.#chain.then(step).catch(async (error: unknown) => {
      this.o.log(`discord: could not show a reply: ${(error as Error).stack ?? String(error)}`);
      if (isPermissionError(error) && !this.#stopped && this.o.onDenied) {
        const { onDenied, onStop } = this.o;
        if (this.#jobId === undefined && onStop) {
          this.#endLater = (id) => this.#quietly(() => onStop(id));
        }
        this.#stopped = true;
        this.#final = true;
        this.#dropStatus();
        await this.#quietly(async () => this.surface.fail(await onDenied(this.#jobId, error)));
      }
    });
  }

  async #quietly(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.o.log(`discord: could not say why: ${(error as Error).stack ?? String(error)}`);
    }
  }
}
