/**
 * The path every image command shares: limits, the engine job with its status replies, the job
 * record, the result reply.
 */
import {
  type FaceChoice,
  type JobHandle,
  PasticheError,
  type StyleChoice,
  type StyleInfo,
  type StylizeResult,
} from '../engine/index.ts';
import type { ActiveJob } from './active.ts';
import { channelOf, ownerOf, type CommandContext, type Send } from './context.ts';
import { isRefusal, LimitError } from './limits.ts';
import type { JobRecord, RecordStyle } from './records.ts';
import { paramsText, previewReply, resultParams, statusReply } from './replies.ts';
import type { Caller } from './types.ts';

/** What to make: the pack, where face and style come from, the options as the user gave them. */
export interface JobPlan {
  pack: StyleInfo;
  face: FaceChoice;
  style: StyleChoice;
  options: JobRecord['options'];
  /** More styles on the same face, in one image (a grid or a fusion strip). */
  variants?: StyleChoice[];
  columns?: number;
  parentJobId?: string;
}

/**
 * Runs one job to its `result` reply. Throws a `UserError` (refused by a limit, no face,
 * cancelled…) for the caller to turn into the `error` reply.
 */
export async function runJob(
  ctx: CommandContext,
  caller: Caller,
  plan: JobPlan,
  send: Send,
): Promise<void> {
  const owner = ownerOf(caller);
  const channel = channelOf(caller);
  const release = await ctx.limits.admit(owner, channel).catch((error: unknown) => {
    if (error instanceof LimitError) ctx.metrics?.refused(error.code);
    throw error;
  });
  let handle: JobHandle<StylizeResult>;
  try {
    handle = ctx.engine.submit({
      userId: owner,
      face: plan.face,
      style: plan.style,
      ...plan.options,
      ...(plan.variants && { variants: plan.variants }),
      ...(plan.columns !== undefined && { columns: plan.columns }),
      // Chat platforms show JPEG everywhere, and it keeps uploads far under their size limits.
      format: 'jpeg',
      ...(ctx.requestId && { requestId: ctx.requestId }),
    });
  } catch (error) {
    // The engine's own queue is full (or it is closing): a refusal, like a limit's.
    if (isRefusal(error)) ctx.metrics?.refused(error.code);
    ctx.logger.debug({ err: error }, 'the engine did not take the job');
    await release();
    throw error;
  }
  const jobId = handle.id;
  const log = ctx.logger.child({ jobId });
  log.debug({ pack: plan.pack.name }, 'job submitted');
  let settle = (): void => undefined;
  const finished = new Promise<void>((resolve) => (settle = resolve));
  const job: ActiveJob = { handle, owner, channel, position: 1, finished };
  ctx.active.add(job);
  handle.on('queued', ({ position }) => {
    job.position = position;
    void send(statusReply(jobId, 'queued', position, ctx.active.etaMs(position)));
  });
  handle.on('started', () => {
    job.position = 0;
    job.startedAt = Date.now();
  });
  handle.on('stage', ({ stage }) => void send(statusReply(jobId, stage)));
  handle.on('preview', ({ image }) => void send(previewReply(jobId, image)));
  try {
    const result = await handle.result.then(
      (r) => {
        ctx.metrics?.job({ result: r });
        log.info({ outcome: 'ok', cacheHit: r.cacheHit }, 'job finished');
        return r;
      },
      (error: unknown) => {
        ctx.metrics?.job({ error });
        // A bug's stack is logged once, by onError, under this request's id.
        const outcome = error instanceof PasticheError ? error.code : 'internal';
        log.info({ outcome }, 'job finished');
        throw error;
      },
    );
    if (job.startedAt !== undefined) ctx.active.measured(Date.now() - job.startedAt);
    const record = recordOf(caller, jobId, plan, result);
    await ctx.records.put(record, owner);
    await ctx.limits.charge(owner, result.faces?.length ?? result.tiles?.length ?? 1);
    if (result.photoKey) await ctx.records.setLastPhoto(owner, result.photoKey);
    const params = resultParams(record, plan.pack, result);
    await send({
      kind: 'result',
      jobId,
      image: result.image,
      text: paramsText(params, record),
      params,
    });
  } finally {
    ctx.active.remove(jobId);
    await release();
    settle();
  }
}

/** The record of a finished job, from what the engine says it used (ids, seeds, hashes). */
function recordOf(caller: Caller, jobId: string, plan: JobPlan, result: StylizeResult): JobRecord {
  const face: JobRecord['face'] = result.photoKey
    ? { kind: 'photo', key: result.photoKey }
    : { kind: 'random', seed: plan.face.kind === 'random' ? plan.face.seed : '' };
  const used = result.style;
  let style: RecordStyle;
  if (used.kind === 'exemplar' && used.exemplar) {
    style = { kind: 'exemplar', ...used.exemplar };
  } else if (used.kind === 'sampled' && used.structureSeed && used.colorSeed) {
    style = { kind: 'sampled', structureSeed: used.structureSeed, colorSeed: used.colorSeed };
  } else if (used.kind === 'image') {
    style = { kind: 'image', ...(used.imageKey !== undefined && { key: used.imageKey }) };
  } else {
    style = { kind: 'reference', reference: used.reference };
  }
  return {
    version: 1,
    jobId,
    userId: caller.userId,
    platform: caller.platform,
    channel: caller.channelId,
    ...(caller.serverId !== undefined && { serverId: caller.serverId }),
    pack: plan.pack.name,
    face,
    style,
    options: { ...plan.options, ...(result.encoder && { encoder: result.encoder }) },
    ...(result.tiles && { tiles: result.tiles.map((t) => t.reference) }),
    createdAt: new Date().toISOString(),
    ...(plan.parentJobId !== undefined && { parentJobId: plan.parentJobId }),
  };
}
