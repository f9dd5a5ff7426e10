/**
 * `delete`: removes a result's job record and the photo kept for it, if still kept (the adapter
 * deletes its message); author only.
 */
import { UserError } from '../engine/index.ts';
import { assertAuthor, ownerOf, type Command } from './context.ts';

export const deleteResult: Command<{ jobId: string }> = {
  name: 'delete',
  description: 'Delete one of your results.',
  options: [{ name: 'job', type: 'string', description: 'The result to delete', required: true }],
  async run(ctx, caller, { jobId }, send) {
    const job = ctx.active.get(jobId);
    const record = await ctx.records.get(jobId);
    const owner = job?.owner ?? (record && ownerOf(record));
    if (!owner) throw new UserError('unknown-job', jobId);
    assertAuthor(caller, owner);
    if (job) {
      // Still in progress: stop it first, so no record appears after the delete.
      job.handle.cancel();
      await job.finished;
    }
    await ctx.records.delete(jobId);
    // The photo kept for a whole photo goes with the result (its codes stay until `forget`).
    if (record?.face.kind === 'photo') await ctx.engine.forgetPhoto?.(owner, record.face.key);
    await send({ kind: 'info', text: 'Deleted.' });
  },
};
