/** `cancel`: stops a queued or running job; only its author may. */
import { UserError } from '../engine/index.ts';
import { assertAuthor, ownerOf, type Command } from './context.ts';

export const cancel: Command<{ jobId: string }> = {
  name: 'cancel',
  description: 'Stop one of your jobs that is queued or running.',
  options: [{ name: 'job', type: 'string', description: 'The job to stop', required: true }],
  async run(ctx, caller, { jobId }, send) {
    const job = ctx.active.get(jobId);
    if (!job) {
      // Finished (it has a record), or never known here: say which.
      const record = await ctx.records.get(jobId);
      if (!record) throw new UserError('unknown-job', jobId);
      assertAuthor(caller, ownerOf(record));
      throw new UserError('job-finished', jobId);
    }
    assertAuthor(caller, job.owner);
    if (!job.handle.cancel()) throw new UserError('job-finished', jobId);
    // The job's own reply stream ends with its `cancelled` error once it has stopped.
    await job.finished;
    await send({ kind: 'info', text: 'Cancelled.' });
  },
};
