/** `pick`: one tile of a grid or strip at full size, on the same face with the same options. */
import { UserError } from '../engine/index.ts';
import { assertAuthor, ownerOf, pickPack, type Command } from './context.ts';
import { faceOf } from './reroll.ts';
import { runJob } from './run-job.ts';
import { resolveStyleRef } from './style-ref.ts';

export const pick: Command<{ jobId: string; tile: number }> = {
  name: 'pick',
  description: 'One picture of a grid or strip at full size.',
  options: [
    { name: 'job', type: 'string', description: 'The grid or strip', required: true },
    { name: 'tile', type: 'integer', description: 'Which one, from 1', required: true, min: 1 },
  ],
  async run(ctx, caller, { jobId, tile }, send) {
    const record = await ctx.records.get(jobId);
    if (!record) throw new UserError('unknown-job', jobId);
    if (record.face.kind !== 'random') assertAuthor(caller, ownerOf(record));
    const reference = record.tiles?.[tile - 1];
    if (reference === undefined) {
      throw new UserError('bad-option', `tile ${tile} of ${record.tiles?.length ?? 0}`);
    }
    if (reference === '') throw new UserError('photo-forgotten', 'exemplar image');
    const style = await resolveStyleRef(ctx, reference);
    const pack = pickPack(ctx, style.pack);
    const face = faceOf(record);
    await runJob(
      ctx,
      caller,
      { pack, face, style, options: record.options, parentJobId: jobId },
      send,
    );
  },
};
