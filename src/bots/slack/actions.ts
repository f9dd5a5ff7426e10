/**
 * The buttons on the adapter's messages: 🎲 🧬 🎨 re-roll, 🔀 fuse, Whole photo and Delete on a
 * result, Keep 1–n on a grid or strip, Cancel on a status. A button carries its job id, so it
 * works after a restart; the commands check who may use it (cancel, delete and Whole photo are
 * the author's), and refusals reach only the one who clicked.
 */
import type { BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Caller, ReplySink, RerollMode } from '../../commands/index.ts';
import { ACTION } from './actions-ids.ts';
import { callerOf, type SlackContext } from './context.ts';
import type { ReplyTarget } from './replies.ts';

type ButtonArgs = Pick<
  SlackActionMiddlewareArgs<BlockAction<ButtonAction>>,
  'ack' | 'body' | 'action'
>;

const MODES: Readonly<Record<string, RerollMode>> = {
  [ACTION.rerollStyle]: 'style',
  [ACTION.rerollStructure]: 'structure',
  [ACTION.rerollColor]: 'color',
  [ACTION.rerollFuse]: 'fuse',
};

/** Who clicked, where, and where their answers go (the thread of the message clicked). */
function clicked(body: BlockAction): { caller: Caller; target: ReplyTarget } | undefined {
  const channel = body.channel?.id ?? body.container.channel_id;
  if (!channel) return undefined;
  const user = body.user.id;
  const threadTs = body.message?.['thread_ts'] as string | undefined;
  return {
    caller: callerOf(user, channel, body.team?.id),
    target: {
      channel,
      user,
      ...(threadTs !== undefined && { threadTs }),
      ...(body.response_url && { responseUrl: body.response_url }),
    },
  };
}

/** 🎲 🧬 🎨 🔀 on a result: a variation, posted beside it. */
export function onRerollButton(ctx: SlackContext) {
  return async function rerollButton({ ack, body, action }: ButtonArgs): Promise<void> {
    await ack();
    const mode = MODES[action.action_id];
    const where = clicked(body);
    if (!mode || !where || !action.value) return;
    const input = { jobId: action.value, mode };
    ctx.run(where.target, (sink) => ctx.commands.reroll(where.caller, input, sink));
  };
}

/** Keep n on a grid or strip: that picture alone, at full size. */
export function onPickButton(ctx: SlackContext) {
  return async function pickButton({ ack, body, action }: ButtonArgs): Promise<void> {
    await ack();
    const tile = Number(action.action_id.slice(ACTION.pickPrefix.length));
    const where = clicked(body);
    if (!where || !action.value || !(tile >= 1)) return;
    const input = { jobId: action.value, tile };
    ctx.run(where.target, (sink) => ctx.commands.pick(where.caller, input, sink));
  };
}

/**
 * Whole photo on a crop: the result's style and options pasted into the photo, which the engine
 * keeps for `privacy.keepPhotosMinutes` after it was sent; later the answer is `photo-needed`.
 */
export function onWholePhotoButton(ctx: SlackContext) {
  return async function wholePhotoButton({ ack, body, action }: ButtonArgs): Promise<void> {
    await ack();
    const where = clicked(body);
    if (!where || !action.value) return;
    const input = { jobId: action.value };
    ctx.run(where.target, (sink) => ctx.commands.wholePhoto(where.caller, input, sink));
  };
}

/** Cancel on a status message: the job's own status then says it was cancelled. */
export function onCancelButton(ctx: SlackContext) {
  return async function cancelButton({ ack, body, action }: ButtonArgs): Promise<void> {
    await ack();
    const where = clicked(body);
    if (!where || !action.value) return;
    const input = { jobId: action.value };
    ctx.run(where.target, (sink) => ctx.commands.cancel(where.caller, input, sink));
  };
}

/** Delete on a result: the record, then the message and its file (members cannot delete a bot's message). */
export function onDeleteButton(ctx: SlackContext) {
  return async function deleteButton({ ack, body, action }: ButtonArgs): Promise<void> {
    await ack();
    const where = clicked(body);
    const ts = body.message?.ts;
    if (!where || !action.value || !ts) return;
    const jobId = action.value;
    const message = { channel: where.target.channel, ts };
    ctx.run(where.target, (sink) => deleteResult(ctx, where.caller, jobId, sink, message));
  };
}

/**
 * Runs the `delete` command and, once it has removed the record (so only for the author),
 * deletes the result's message and file. `message` is where it was posted, if known; else the
 * author's list of results says.
 */
export async function deleteResult(
  ctx: SlackContext,
  caller: Caller,
  jobId: string,
  sink: ReplySink,
  message?: { channel: string; ts: string },
): Promise<void> {
  let done: string | undefined;
  await ctx.commands.deleteResult(caller, { jobId }, (reply) => {
    // `info` is the command's one success reply; the rest (refusals) go to the clicker.
    if (reply.kind === 'info') done = reply.text;
    else return sink(reply);
  });
  if (done === undefined) return;
  const { client, store } = ctx;
  const posted =
    message ?? (await store.recentResults(caller.userId)).find((r) => r.jobId === jobId);
  await store.removeRecentResult(caller.userId, jobId);
  const result = posted && (await store.result(posted.channel, posted.ts));
  // Only the message that holds this result: the record check above was for this job.
  if (posted && result?.jobId === jobId) {
    await client.chat.delete({ channel: posted.channel, ts: posted.ts });
    if (result.fileId) await client.files.delete({ file: result.fileId });
  }
  await sink({ kind: 'info', text: done });
}
