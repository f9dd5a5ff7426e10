/**
 * `whole photo`: a crop result again, pasted back into its whole photo. The engine keeps face
 * codes, never photos, so the adapter hands the photo back (a chat platform can fetch it again
 * from where it was shared); style and options come from the result's record.
 */
import { UserError } from '../engine/errors.ts';
import { assertAuthor, ownerOf, pickPack, type Command } from './context.ts';
import { runJob } from './run-job.ts';
import { recordedStyle } from './style-ref.ts';

export const wholePhoto: Command<{ jobId: string; photo: Uint8Array }> = {
  name: 'whole photo',
  description: 'A result pasted back into the whole photo it was made from.',
  options: [
    { name: 'job', type: 'string', description: 'The result', required: true },
    { name: 'photo', type: 'image', description: 'The photo it was made from', required: true },
  ],
  async run(ctx, caller, { jobId, photo }, send) {
    const record = await ctx.records.get(jobId);
    if (!record) throw new UserError('unknown-job', jobId);
    // A random portrait has no photo; a forgotten one may not be used again.
    if (record.face.kind === 'random') throw new UserError('photo-needed', 'random face');
    assertAuthor(caller, ownerOf(record));
    if (record.face.kind === 'forgotten') throw new UserError('photo-forgotten', jobId);
    if (record.tiles) throw new UserError('bad-option', 'pick one picture of the grid first');
    const pack = pickPack(ctx, record.pack);
    const style = recordedStyle(record.pack, record.style);
    await runJob(
      ctx,
      caller,
      {
        pack,
        face: { kind: 'photo', bytes: photo },
        style,
        options: { ...record.options, output: 'photo' },
        parentJobId: jobId,
      },
      send,
    );
  },
};
