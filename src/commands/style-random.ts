/** `style random`: a sampled style on the caller's photo, or a random portrait with no photo. */
import { UserError } from '../engine/errors.ts';
import type { FaceChoice } from '../engine/request.ts';
import { pickPack, type Command } from './context.ts';
import { runJob } from './run-job.ts';
import { newSeed, randomStyle } from './seeds.ts';
import { photoFace } from './stylize.ts';

export const styleRandom: Command<{ photo?: Uint8Array; pack?: string }> = {
  name: 'style random',
  description: 'A random style on your photo, or a random portrait if you have sent none.',
  options: [
    { name: 'photo', type: 'image', description: 'A photo with a face (default: your last one)' },
    { name: 'pack', type: 'string', description: 'The style, e.g. cartoon' },
  ],
  async run(ctx, caller, input, send) {
    const pack = pickPack(ctx, input.pack);
    const options = { preserveColor: false };
    const random: FaceChoice = { kind: 'random', seed: newSeed() };
    const face = (await photoFace(ctx, caller, input.photo)) ?? random;
    try {
      await runJob(ctx, caller, { pack, face, style: randomStyle(pack), options }, send);
    } catch (error) {
      // The last photo's code expired from the cache: that is "no photo at all".
      const expired = error instanceof UserError && error.code === 'photo-expired';
      if (!(expired && face.kind === 'cached-photo')) throw error;
      await runJob(ctx, caller, { pack, face: random, style: randomStyle(pack), options }, send);
    }
  },
};
