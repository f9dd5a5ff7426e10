/**
 * `reroll`: a variation of an earlier result, from its job record (so it works after a restart).
 *
 * - `style`: a new sampled style (new structure and colour seeds); a pack without a sampler
 *   gets a random other exemplar instead.
 * - `structure` / `color`: a new seed for that half only, the other seed kept. A result made
 *   from an exemplar or an image has no seeds to keep, so its first such re-roll switches to a
 *   sampled style with both seeds new; later ones keep the other seed.
 * - `exemplar`: another exemplar of the same pack.
 * - `fuse` (🔀): the style half and half with a new random one; on a fusion, a new second style
 *   at the same ratio.
 *
 * The face and options stay the same: the same photo, by its cached code, or the same random face.
 */
import {
  type FaceChoice,
  partOf,
  type ReferableStyle,
  type StyleChoice,
  type StyleInfo,
  type StylePart,
  UserError,
} from '../engine/index.ts';
import { assertAuthor, ownerOf, pickPack, type Command } from './context.ts';
import type { JobRecord, RecordStyle } from './records.ts';
import { runJob } from './run-job.ts';
import { newSeed, otherExemplar, randomStyle } from './seeds.ts';
import { recordedStyle } from './style-ref.ts';

export type RerollMode = 'style' | 'structure' | 'color' | 'exemplar' | 'fuse';
const MODES: readonly RerollMode[] = ['style', 'structure', 'color', 'exemplar', 'fuse'];

export const reroll: Command<{ jobId: string; mode: RerollMode }> = {
  name: 'reroll',
  description: 'A variation of a result: new style, structure only, colour only, or exemplar.',
  options: [
    { name: 'job', type: 'string', description: 'The result to vary', required: true },
    { name: 'mode', type: 'string', description: 'What to change', required: true, choices: MODES },
  ],
  async run(ctx, caller, { jobId, mode }, send) {
    if (!MODES.includes(mode)) throw new UserError('bad-option', `re-roll mode ${String(mode)}`);
    const record = await ctx.records.get(jobId);
    if (!record) throw new UserError('unknown-job', jobId);
    // A photo is its author's: anyone may vary a random portrait, only the author their face.
    if (record.face.kind !== 'random') assertAuthor(caller, ownerOf(record));
    const pack = pickPack(ctx, record.pack);
    const style = nextStyle(pack, record.style, mode);
    const face = faceOf(record);
    await runJob(
      ctx,
      caller,
      { pack, face, style, options: record.options, parentJobId: jobId },
      send,
    );
  },
};

export function faceOf(record: JobRecord): FaceChoice {
  switch (record.face.kind) {
    case 'photo':
      return { kind: 'cached-photo', key: record.face.key };
    case 'random':
      return { kind: 'random', seed: record.face.seed };
    case 'forgotten':
      throw new UserError('photo-forgotten', record.jobId);
  }
}

function nextStyle(pack: StyleInfo, current: RecordStyle, mode: RerollMode): StyleChoice {
  if (mode === 'fuse') return fused(pack, recordedStyle(pack.name, current));
  const exemplar = current.kind === 'exemplar' ? current.id : undefined;
  if (mode === 'style') return randomStyle(pack, exemplar);
  if (mode === 'exemplar') {
    return { kind: 'exemplar', pack: pack.name, exemplar: otherExemplar(pack, exemplar) };
  }
  if (!pack.hasSampler) throw new UserError('no-sampler', pack.name);
  const seeds =
    current.kind === 'sampled' ? current : { structureSeed: newSeed(), colorSeed: newSeed() };
  return {
    kind: 'sampled',
    pack: pack.name,
    structureSeed: mode === 'structure' ? newSeed() : seeds.structureSeed,
    colorSeed: mode === 'color' ? newSeed() : seeds.colorSeed,
  };
}

/** 🔀: the current style fused with a new random one (or a blend's second style replaced). */
function fused(pack: StyleInfo, current: ReferableStyle): StyleChoice {
  const exemplar = current.kind === 'exemplar' ? current.exemplar : undefined;
  const other = randomStyle(pack, typeof exemplar === 'number' ? exemplar : undefined);
  const b: StylePart =
    other.kind === 'sampled'
      ? { kind: 'sampled', structureSeed: other.structureSeed, colorSeed: other.colorSeed }
      : { kind: 'exemplar', ...(other.kind === 'exemplar' && { exemplar: other.exemplar }) };
  if (current.kind === 'blend') return { ...current, b };
  return { kind: 'blend', pack: pack.name, a: partOf(current), b, ratio: 0.5 };
}
