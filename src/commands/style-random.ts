/** `style random`: a sampled style on the caller's photo, or a random portrait with no photo. */
import { type FaceChoice, UserError } from '../engine/index.ts';
import { pickPack, type Command } from './context.ts';
import { runJob } from './run-job.ts';
import { newSeed, randomStyle } from './seeds.ts';
import { photoFace } from './stylize.ts';

/** Styles in a variation grid: 2×2. */
export const GRID_COUNTS = [1, 4] as const;

export const styleRandom: Command<{ photo?: Uint8Array; pack?: string; count?: number }> = {
  name: 'style random',
  description: 'A random style on your photo, or a random portrait if you have sent none.',
  options: [
    { name: 'photo', type: 'image', description: 'A photo with a face (default: your last one)' },
    { name: 'pack', type: 'string', description: 'The style, e.g. cartoon' },
    {
      name: 'count',
      type: 'integer',
      description: '4 for a 2×2 grid of random styles (keep one with `pick`)',
      min: 1,
      max: 4,
    },
  ],
  async run(ctx, caller, input, send) {
    const pack = pickPack(ctx, input.pack);
    const count = input.count ?? 1;
    if (!(GRID_COUNTS as readonly number[]).includes(count)) {
      throw new UserError('bad-option', `count ${count}: 1 or 4`);
    }
    const options = { preserveColor: false };
    const random: FaceChoice = { kind: 'random', seed: newSeed() };
    const face = (await photoFace(ctx, caller, input.photo)) ?? random;
    // Distinct styles: a pack without a sampler draws exemplars, which may repeat; seeds never do.
    const plan = (f: FaceChoice) => {
      const [style, ...variants] = Array.from({ length: count }, () => randomStyle(pack));
      return {
        pack,
        face: f,
        style: style!,
        options,
        ...(variants.length > 0 && { variants, columns: 2 }),
      };
    };
    try {
      await runJob(ctx, caller, plan(face), send);
    } catch (error) {
      // The last photo's code expired from the cache: that is "no photo at all".
      const expired = error instanceof UserError && error.code === 'photo-expired';
      if (!(expired && face.kind === 'cached-photo')) throw error;
      await runJob(ctx, caller, plan(random), send);
    }
  },
};
