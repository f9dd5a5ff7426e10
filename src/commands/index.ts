/**
 * The platform-neutral command layer: what the playground, Discord and Slack adapters call.
 * Each command sends `status`, then `result` or `error` (or `info`) replies to the sink it is
 * given, and never rejects: expected failures become `error` replies from the UserError table,
 * anything else a generic one (and `onError`).
 */
import type { Config } from '../config.ts';
import { type EngineApi, newRequestId, type StyleInfo, UserError } from '../engine/index.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { JobMetrics } from '../metrics.ts';
import { ActiveJobs } from './active.ts';
import { cancel } from './cancel.ts';
import { ContactSheets } from './contact-sheet.ts';
import {
  ownerOf,
  type Command,
  type CommandContext,
  type CommandMeta,
  type Send,
} from './context.ts';
import { deleteResult } from './delete.ts';
import { forget, PlatformForgetters, type Forgetter } from './forget.ts';
import { help } from './help.ts';
import { createLimits, isRefusal, type Limits } from './limits.ts';
import { precheck, type Precheck } from './precheck.ts';
import { privacy } from './privacy.ts';
import { openRecords, type JobRecord } from './records.ts';
import { errorReply } from './replies.ts';
import { reroll, type RerollMode } from './reroll.ts';
import { styleList } from './style-list.ts';
import { pick } from './pick.ts';
import { styleBlend, type StyleBlendInput } from './style-blend.ts';
import { styleRandom } from './style-random.ts';
import { stylize, type StylizeInput } from './stylize.ts';
import { wholePhoto, type WholePhotoInput } from './whole-photo.ts';
import type { Caller, OnError, Reply, ReplySink } from './types.ts';

export type { Caller, OnError, Reply, ReplySink, ResultParams, Stage } from './types.ts';
export { errorReply } from './replies.ts';
export type { CommandMeta, CommandOption } from './context.ts';
export type { Forgetter } from './forget.ts';
export type {
  JobRecord,
  Precheck,
  RerollMode,
  StyleBlendInput,
  StyleInfo,
  StylizeInput,
  WholePhotoInput,
};

/**
 * The commands. Each sends its replies to `reply` in order and resolves once the last one is
 * sent; none rejects. Image commands send `status` replies (queue position, stage) and then a
 * `result` (image, parameters text, `jobId` for re-rolls) or an `error`.
 */
export interface Commands {
  /** A photo (attached, else the caller's last one) in an exemplar's style or an image's. */
  stylize(caller: Caller, input: StylizeInput, reply: ReplySink): Promise<void>;
  /**
   * A sampled style on the caller's photo (attached, else the last one they sent, from the
   * cache), or a random portrait with no photo at all.
   */
  styleRandom(
    caller: Caller,
    input: { photo?: Uint8Array; pack?: string; count?: number },
    reply: ReplySink,
  ): Promise<void>;
  /** Two styles fused on the caller's photo at a ratio, or a strip of six steps from a to b. */
  styleBlend(caller: Caller, input: StyleBlendInput, reply: ReplySink): Promise<void>;
  /** One tile of a grid or strip at full size. */
  pick(caller: Caller, input: { jobId: string; tile: number }, reply: ReplySink): Promise<void>;
  /**
   * A crop result pasted back into its photo, from the photo kept for a few minutes
   * (`privacy.keepPhotosMinutes`), or from the same photo sent again (`photo`, checked by its
   * hash); `photo-needed` without either.
   */
  wholePhoto(caller: Caller, input: WholePhotoInput, reply: ReplySink): Promise<void>;
  /**
   * Packs and exemplars (names, ids, default weights) + a contact sheet image of exemplar
   * previews (each exemplar's style rendered on one fixed face, cached). `page` (1-based) pages
   * through packs of more than 48 exemplars.
   */
  styleList(
    caller: Caller,
    input: { pack?: string; page?: number },
    reply: ReplySink,
  ): Promise<void>;
  /** A variation of a result, from its job record: see `reroll.ts` for the modes. */
  reroll(
    caller: Caller,
    input: { jobId: string; mode: RerollMode },
    reply: ReplySink,
  ): Promise<void>;
  /** Author only. Replies `Cancelled.`; the job's own replies end with a `cancelled` error. */
  cancel(caller: Caller, input: { jobId: string }, reply: ReplySink): Promise<void>;
  /** Deletes the job record (author only); the adapter deletes its message. */
  deleteResult(caller: Caller, input: { jobId: string }, reply: ReplySink): Promise<void>;
  /** Deletes the caller's cached face codes and the photo references in their job records. */
  forget(caller: Caller, reply: ReplySink): Promise<void>;
  /**
   * Has `forget` also run `forgetter` for this platform's callers (their platform user id):
   * for what an adapter keeps about photos on its own, such as Slack's recently shared photos.
   * Returns the unregistration, for an adapter that stops.
   */
  onForget(platform: Caller['platform'], forgetter: Forgetter): () => void;
  help(caller: Caller, reply: ReplySink): Promise<void>;
  /** What is stored, for how long, and how to delete it. */
  privacy(caller: Caller, reply: ReplySink): Promise<void>;
  /**
   * The refusal an image command would answer before any real work (limits, style, no photo,
   * not the author), or `undefined`: for an adapter that must choose a reply's visibility when
   * it acknowledges. Takes nothing; the command itself checks again.
   */
  check(caller: Caller, request: Precheck): Promise<Extract<Reply, { kind: 'error' }> | undefined>;
  /**
   * Gives the caller back one job of the hour, for a job the platform refused to show (the bot
   * lacks a permission there): the user should not pay for our missing access.
   */
  refundQuota(caller: Caller): Promise<void>;
  /** For autocomplete: installed packs and their exemplar names. */
  styles(): StyleInfo[];
  /** The job record, e.g. to map a reaction to a job (works after a restart). */
  job(jobId: string): Promise<JobRecord | undefined>;
  /** Every command's name, description and options, e.g. to register slash commands. */
  catalogue(): readonly CommandMeta[];
  /**
   * Refuses new commands, lets jobs in progress finish for up to `graceMs` (default 0), cancels
   * the rest (their authors get the `cancelled` reply), then closes the stores. The engine is
   * the caller's to close, after this.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

export interface CreateCommandsOptions {
  engine: EngineApi;
  config: Config;
  /** keyv URL of job records (and the limits' Redis if `redis://`); default `config.cache.url`. */
  recordsUrl?: string;
  /** One job's running time, for waits ("~2 min") until jobs have been measured; default 15 s. */
  typicalJobMs?: number;
  /** Unexpected errors (bugs, a failing reply sink), with the request id a user was shown. */
  onError?: OnError;
  /** Where job outcomes, stage timings and limit refusals are counted. */
  metrics?: JobMetrics;
  /** The structured log; each request's lines carry its `requestId`, `userId` and `jobId`. */
  logger?: Logger;
}

const CATALOGUE: readonly CommandMeta[] = [
  stylize,
  styleRandom,
  styleBlend,
  styleList,
  reroll,
  pick,
  wholePhoto,
  cancel,
  deleteResult,
  forget,
  help,
  privacy,
].map(({ name, description, options }) => ({ name, description, options }));

/**
 * Opens the job records and limits over the configured store and returns the commands.
 *
 * @example
 * const commands = await createCommands({ engine, config });
 * await commands.stylize({ userId: 'u1', platform: 'playground', channelId: 's1' },
 *   { photo, pack: 'cartoon', exemplar: 26 }, (reply) => render(reply));
 */
export async function createCommands(options: CreateCommandsOptions): Promise<Commands> {
  const { engine, config } = options;
  const onError: OnError =
    options.onError ??
    ((error, requestId) =>
      console.error(`pastiche: ${requestId ? `ref ${requestId}: ` : ''}`, error));
  const url = options.recordsUrl ?? config.cache.url;
  const active = new ActiveJobs(options.typicalJobMs ?? 15_000);
  const { keyPrefix } = config.cache;
  const records = await openRecords({
    url,
    ttlMs: config.cache.ttlDays * 86_400_000,
    onError,
    keyPrefix,
  });
  let limits: Limits;
  try {
    limits = await createLimits({
      limits: config.limits,
      url,
      keyPrefix,
      estimates: active.estimates,
      onError,
    });
  } catch (error) {
    await records.close();
    throw error;
  }
  const sheets = new ContactSheets(engine, records);
  const forgetters = new PlatformForgetters();
  const ctx: CommandContext = {
    engine,
    config,
    records,
    limits,
    active,
    sheets,
    forgetters,
    catalogue: CATALOGUE,
    onError,
    ...(options.metrics && { metrics: options.metrics }),
    logger: options.logger ?? silentLogger,
  };
  let closed = false;

  async function call<I>(
    command: Command<I>,
    caller: Caller,
    input: I,
    sink: ReplySink,
  ): Promise<void> {
    const send = sender(sink, onError);
    // One id per request: on its log lines and, for a bug, in the reply ("ref …").
    const requestId = newRequestId();
    const logger = ctx.logger.child({ requestId, userId: ownerOf(caller) });
    try {
      // Refusals by limits and by the engine are counted where they are thrown (run-job.ts).
      if (closed) throw refused(new UserError('busy', 'shutting down'));
      await command.run({ ...ctx, logger, requestId }, caller, input, send);
    } catch (error) {
      const reply = errorReply(error, onError, requestId);
      logger.debug({ command: command.name, code: reply.code }, 'error reply');
      await send(reply);
    }
  }

  function refused(error: UserError): UserError {
    options.metrics?.refused(error.code);
    return error;
  }

  return {
    stylize: (caller, input, reply) => call(stylize, caller, input, reply),
    styleRandom: (caller, input, reply) => call(styleRandom, caller, input, reply),
    styleBlend: (caller, input, reply) => call(styleBlend, caller, input, reply),
    pick: (caller, input, reply) => call(pick, caller, input, reply),
    wholePhoto: (caller, input, reply) => call(wholePhoto, caller, input, reply),
    styleList: (caller, input, reply) => call(styleList, caller, input, reply),
    reroll: (caller, input, reply) => call(reroll, caller, input, reply),
    cancel: (caller, input, reply) => call(cancel, caller, input, reply),
    deleteResult: (caller, input, reply) => call(deleteResult, caller, input, reply),
    forget: (caller, reply) => call(forget, caller, undefined, reply),
    onForget: (platform, forgetter) => forgetters.add(platform, forgetter),
    help: (caller, reply) => call(help, caller, undefined, reply),
    privacy: (caller, reply) => call(privacy, caller, undefined, reply),
    async check(caller, request) {
      try {
        if (closed) throw new UserError('busy', 'shutting down');
        await precheck(ctx, caller, request);
        return undefined;
      } catch (error) {
        const reply = errorReply(error, onError);
        // A command refused here is never run, so admission never counts it.
        options.metrics?.checked(reply.code);
        if (isRefusal(error)) options.metrics?.refused(error.code);
        return reply;
      }
    },
    refundQuota: (caller) => limits.refund(ownerOf(caller)),
    styles: () => engine.styles(),
    job: (jobId) => records.get(jobId),
    catalogue: () => CATALOGUE,
    async close({ graceMs = 0 } = {}) {
      if (closed) return;
      closed = true;
      const settled = Promise.all(active.all().map((job) => job.finished));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([settled, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      const left = active.all();
      for (const job of left) job.handle.cancel();
      await Promise.all(left.map((job) => job.finished));
      await limits.close();
      await records.close();
    },
  };
}

/** Sends replies in order, one at a time; a sink that throws is reported, not propagated. */
function sender(sink: ReplySink, onError: (error: unknown) => void): Send {
  let chain = Promise.resolve();
  return (reply) =>
    (chain = chain.then(async () => {
      try {
        await sink(reply);
      } catch (error) {
        onError(error);
      }
    }));
}
