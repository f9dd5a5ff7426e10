/**
 * `whole photo`: a crop result again, pasted back into the whole photo (every face, if the result
 * had them all). The engine keeps face codes, never photos, so this needs the photo's bytes
 * again: the adapter sends them when it can fetch them anew (the same photo, by its hash), and
 * without them the answer is `photo-needed`.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../engine/errors.ts';
import { assertAuthor, ownerOf, pickPack, type Command } from './context.ts';
import type { JobRecord } from './records.ts';
import { runJob } from './run-job.ts';
import { recordedStyle } from './style-ref.ts';

export interface WholePhotoInput {
  jobId: string;
  /** The photo the result was made from; other bytes are refused as `photo-needed`. */
  photo?: Uint8Array;
}

export const wholePhoto: Command<WholePhotoInput> = {
  name: 'whole photo',
  description: 'A result pasted back into the whole photo.',
  options: [
    { name: 'job', type: 'string', description: 'The result', required: true },
    { name: 'photo', type: 'image', description: 'The photo it was made from', required: true },
  ],
  async run(ctx, caller, { jobId, photo }, send) {
    const record = await ctx.records.get(jobId);
    if (!record) throw new UserError('unknown-job', jobId);
    assertAuthor(caller, ownerOf(record));
    const bytes = photoOf(record, photo);
    const pack = pickPack(ctx, record.pack);
    const style = recordedStyle(record.pack, record.style);
    await runJob(
      ctx,
      caller,
      {
        pack,
        face: { kind: 'photo', bytes },
        style,
        options: { ...record.options, output: 'photo' },
        parentJobId: jobId,
      },
      send,
    );
  },
};

/**
 * Throws why a result cannot be pasted back, with or without its photo: a grid holds several
 * styles, a random face has no photo, a forgotten one is gone. Returns the photo's hash.
 */
export function pastableKey(record: JobRecord): string {
  if (record.tiles) throw new UserError('bad-option', 'keep one picture of the grid first');
  switch (record.face.kind) {
    case 'random':
      throw new UserError('bad-option', 'a random face has no photo to paste into');
    case 'forgotten':
      throw new UserError('photo-forgotten', record.jobId);
    case 'photo':
      return record.face.key;
  }
}

/** The record's photo, or `photo-needed` when none came, or other bytes (another photo). */
function photoOf(record: JobRecord, photo: Uint8Array | undefined): Uint8Array {
  const key = pastableKey(record);
  if (!photo || createHash('sha256').update(photo).digest('hex') !== key) {
    throw new UserError('photo-needed', record.jobId);
  }
  return photo;
}
