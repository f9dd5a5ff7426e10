/**
 * `whole-photo`: a crop result again, pasted back into the photo it came from. The engine keeps
 * codes for days but the photo itself only for `privacy.keepPhotosMinutes` (0: never), so past
 * that this asks for the photo (`photo-needed`).
 */
import { UserError } from '../engine/errors.ts';
import { assertAuthor, ownerOf, pickPack, type Command } from './context.ts';
import { faceOf } from './reroll.ts';
import { runJob } from './run-job.ts';
import { recordedStyle } from './style-ref.ts';

export const wholePhoto: Command<{ jobId: string }> = {
  name: 'whole-photo',
  description: 'One of your results pasted back into the whole photo (shortly after you sent it).',
  options: [{ name: 'job', type: 'string', description: 'The result', required: true }],
  async run(ctx, caller, { jobId }, send) {
    const record = await ctx.records.get(jobId);
    if (!record) throw new UserError('unknown-job', jobId);
    if (record.face.kind === 'random')
      throw new UserError('bad-option', 'a random face has no photo');
    assertAuthor(caller, ownerOf(record));
    if (record.tiles) throw new UserError('bad-option', 'pick one picture of the grid first');
    const pack = pickPack(ctx, record.pack);
    await runJob(
      ctx,
      caller,
      {
        pack,
        face: faceOf(record),
        style: recordedStyle(pack.name, record.style),
        options: { ...record.options, output: 'photo' },
        parentJobId: jobId,
      },
      send,
    );
  },
};
