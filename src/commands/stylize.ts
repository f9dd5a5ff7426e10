/**
 * `stylize`: a photo (or the last one sent) in a pack's exemplar style, an image's, or any style
 * a reference names; as the aligned crop, or pasted back into the whole photo (every face).
 */
import { randomInt } from 'node:crypto';
import {
  encoderChoice,
  type EncoderChoice,
  type FaceChoice,
  type StyleChoice,
  UserError,
  WEIGHT_PRESETS,
  type WeightPreset,
} from '../engine/index.ts';
import { ownerOf, pickPack, type Command, type CommandContext } from './context.ts';
import { resolveStyleRef } from './style-ref.ts';
import { runJob } from './run-job.ts';
import type { Caller } from './types.ts';

/** What `stylize` takes; every field is optional (defaults: the last photo, the default pack). */
export interface StylizeInput {
  photo?: Uint8Array;
  pack?: string;
  /** An id, a file name, or `"random"` for a random exemplar. */
  exemplar?: string | number;
  /** An image to take the style from instead of an exemplar. */
  styleImage?: Uint8Array;
  structure?: number;
  color?: number;
  preserveColor?: boolean;
  size?: number;
  /** A style reference (`cartoon:26`, `cartoon:random:a:b`, `result:<id>`…); wins over pack and exemplar. */
  style?: string;
  /** Paste the result back into the whole photo. */
  wholePhoto?: boolean;
  /** Every face of the photo (implies the whole photo). */
  allFaces?: boolean;
  preset?: WeightPreset;
  truncation?: number;
  /** The face as the encoder captured it, without any style. */
  reconstruct?: boolean;
  /** `identity` (W+: keeps more of the face) or `style`; default the server's. */
  encoder?: EncoderChoice;
}

const PRESETS = Object.keys(WEIGHT_PRESETS) as WeightPreset[];

export const stylize: Command<StylizeInput> = {
  name: 'stylize',
  description: 'Turn a photo into a portrait in the style of an exemplar.',
  options: [
    { name: 'photo', type: 'image', description: 'A photo with a face (default: your last one)' },
    { name: 'pack', type: 'string', description: 'The style, e.g. cartoon' },
    { name: 'exemplar', type: 'string', description: 'Exemplar id or name, or "random"' },
    { name: 'style-image', type: 'image', description: 'Take the style from this image instead' },
    {
      name: 'structure',
      type: 'number',
      description: 'How much of the shapes to take (0–1)',
      min: 0,
      max: 1,
    },
    {
      name: 'color',
      type: 'number',
      description: 'How much of the colours to take (0–1)',
      min: 0,
      max: 1,
    },
    { name: 'preserve-color', type: 'boolean', description: "Keep the photo's own colours" },
    { name: 'size', type: 'integer', description: 'Output size in pixels' },
    {
      name: 'style',
      type: 'string',
      description: 'A style reference from a result, e.g. cartoon:26 or cartoon:random:1a2b:3c4d',
    },
    { name: 'whole-photo', type: 'boolean', description: 'Paste the result back into the photo' },
    { name: 'all-faces', type: 'boolean', description: 'Every face of a group photo' },
    {
      name: 'preset',
      type: 'string',
      description: 'Weights by name: colour-only keeps your face shape',
      choices: PRESETS,
    },
    {
      name: 'truncation',
      type: 'number',
      description: 'Closer to the average face (0) or to yours (1)',
      min: 0,
      max: 1,
    },
    {
      name: 'reconstruct',
      type: 'boolean',
      description: 'Your face as the model captured it, no style',
    },
    {
      name: 'encoder',
      type: 'string',
      description: 'identity keeps more of your face; style is the original',
      choices: encoderChoice.options,
    },
  ],
  async run(ctx, caller, input, send) {
    let pack = pickPack(ctx, input.pack);
    let style: StyleChoice;
    if (input.style !== undefined && !input.styleImage) {
      style = await resolveStyleRef(ctx, input.style);
      pack = pickPack(ctx, style.pack);
    } else if (input.styleImage) {
      style = { kind: 'image', pack: pack.name, image: input.styleImage };
    } else {
      const exemplar =
        input.exemplar === 'random' ? randomInt(pack.exemplars.length) : input.exemplar;
      style = { kind: 'exemplar', pack: pack.name, ...(exemplar !== undefined && { exemplar }) };
    }
    const face = (await photoFace(ctx, caller, input.photo)) ?? noPhoto();
    const options = {
      preserveColor: input.preserveColor ?? false,
      ...(input.structure !== undefined && { structure: input.structure }),
      ...(input.color !== undefined && { color: input.color }),
      ...(input.size !== undefined && { size: input.size }),
      ...(input.truncation !== undefined && { truncation: input.truncation }),
      ...(input.preset !== undefined && { preset: input.preset }),
      ...(input.reconstruct && { reconstruct: true }),
      ...(input.encoder !== undefined && { encoder: input.encoder }),
      ...((input.wholePhoto || input.allFaces) && { output: 'photo' as const }),
      ...(input.allFaces && { faces: 'all' as const }),
    };
    await runJob(ctx, caller, { pack, face, style, options }, send);
  },
};

/** The attached photo, else the caller's last photo (by its cache key), else nothing. */
export async function photoFace(
  ctx: CommandContext,
  caller: Caller,
  photo: Uint8Array | undefined,
): Promise<FaceChoice | undefined> {
  if (photo) return { kind: 'photo', bytes: photo };
  const key = await ctx.records.lastPhoto(ownerOf(caller));
  return key ? { kind: 'cached-photo', key } : undefined;
}

function noPhoto(): never {
  throw new UserError('no-photo');
}
