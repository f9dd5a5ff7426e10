/**
 * `whole-photo`: a crop result again, pasted back into the photo it came from. The engine keeps
 * codes for days but the photo itself only for `privacy.keepPhotosMinutes` (0: never), so past
 * that this needs the photo again: an adapter that can fetch it anew sends it (checked to be the
 * same photo by its hash); without either the answer is `photo-needed`.
 */
import { createHash } from 'node:crypto';
import { type FaceChoice, UserError } from '../engine/index.ts';
import { assertAuthor, ownerOf, pickPack, type Command } from './context.ts';
import type { JobRecord } from './records.ts';
import { faceOf } from './reroll.ts';
import { runJob } from './run-job.ts';
import { recordedStyle } from './style-ref.ts';

export interface WholePhotoInput {
  jobId: string;
  /** The photo the result was made from, sent again; other bytes are `photo-needed`. */
  photo?: Uint8Array;
}

export const wholePhoto: Command<WholePhotoInput> = {
  name: 'whole-photo',
  description: 'One of your results pasted back into the whole photo (shortly after you sent it).',
  options: [{ name: 'job', type: 'string', description: 'The result', required: true }],
  async run(ctx, caller, { jobId, photo }, send) {
    const record = await ctx.records.get(jobId);
    if (!record) throw new UserError('unknown-job', jobId);
    assertPastable(record);
    assertAuthor(caller, ownerOf(record));
    const pack = pickPack(ctx, record.pack);
    await runJob(
      ctx,
      caller,
      {
        pack,
        face: photo ? samePhoto(record, photo) : faceOf(record),
        style: recordedStyle(pack.name, record.style),
        options: { ...record.options, output: 'photo' },
        parentJobId: jobId,
      },
      send,
    );
  },
};

/** Throws why a result cannot be pasted back: a random face has no photo, a grid many styles. */
export function assertPastable(record: JobRecord): void {
  if (record.face.kind === 'random') {
    throw new UserError('bad-option', 'a random face has no photo');
  }
  if (record.tiles) throw new UserError('bad-option', 'pick one picture of the grid first');
}

/** The bytes sent again, if they are the record's photo (by hash), else `photo-needed`. */
function samePhoto(record: JobRecord, photo: Uint8Array): FaceChoice {
  const key = record.face.kind === 'photo' ? record.face.key : undefined;
  if (createHash('sha256').update(photo).digest('hex') !== key) {
    throw new UserError('photo-needed', record.jobId);
  }
  return { kind: 'photo', bytes: photo };
}
