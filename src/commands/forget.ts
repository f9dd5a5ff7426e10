/**
 * `forget`: deletes what is kept for the caller: face codes, kept photos, and photo references
 * in records.
 */
import { ownerOf, type Command } from './context.ts';

export const forget: Command<void> = {
  name: 'forget',
  description: 'Delete everything I keep about your photos.',
  options: [],
  async run(ctx, caller, _input, send) {
    const owner = ownerOf(caller);
    // A job still running would cache its photo again after the deletion: stop those first.
    const mine = ctx.active.all().filter((job) => job.owner === owner);
    for (const job of mine) job.handle.cancel();
    await Promise.all(mine.map((job) => job.finished));
    const codes = await ctx.engine.forget(owner);
    const records = await ctx.records.forget(owner);
    const text =
      `Done. I deleted ${plural(codes, 'cached face code')} and removed your photos from ` +
      `${plural(records, 'result record')}, and any photo I still kept is gone; re-rolling ` +
      'those results now needs the photo again. ' +
      'Images already posted stay in the chat: delete them there.';
    await send({ kind: 'info', text });
  },
};

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
