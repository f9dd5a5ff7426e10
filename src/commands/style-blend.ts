/**
 * `style blend`: two styles fused at a ratio on the caller's photo (the official notebook's style
 * fusion), or, with `strip`, the whole way from one to the other in six steps, as one image.
 */
import {
  fusionRatios,
  partOf,
  type ReferableStyle,
  type StyleChoice,
  type StylePart,
  UserError,
} from '../engine/index.ts';
import { pickPack, type Command, type CommandContext } from './context.ts';
import { runJob } from './run-job.ts';
import { resolveStyleRef } from './style-ref.ts';
import { photoFace } from './stylize.ts';

export interface StyleBlendInput {
  /** Style references, or exemplar ids/names of `pack` (the default style). */
  a: string;
  b: string;
  /** 0 is `a`, 1 is `b`; default 0.5. */
  ratio?: number;
  /** Six steps from `a` to `b` side by side instead of one image. */
  strip?: boolean;
  photo?: Uint8Array;
  pack?: string;
}

const STRIP_STEPS = 6;

export const styleBlend: Command<StyleBlendInput> = {
  name: 'style blend',
  description: 'Two styles fused on your photo, at a ratio, or a strip from one to the other.',
  options: [
    { name: 'a', type: 'string', description: 'A style: exemplar, or reference', required: true },
    { name: 'b', type: 'string', description: 'Another style', required: true },
    { name: 'ratio', type: 'number', description: '0 = a, 1 = b (default 0.5)', min: 0, max: 1 },
    { name: 'strip', type: 'boolean', description: 'Six steps from a to b in one image' },
    { name: 'photo', type: 'image', description: 'A photo with a face (default: your last one)' },
    { name: 'pack', type: 'string', description: 'The style of bare exemplar ids, e.g. cartoon' },
  ],
  async run(ctx, caller, input, send) {
    const ratio = input.ratio ?? 0.5;
    if (!(ratio >= 0 && ratio <= 1)) throw new UserError('bad-option', `ratio ${ratio}`);
    const a = await side(ctx, input.a, input.pack);
    const b = await side(ctx, input.b, input.pack);
    if (a.pack !== b.pack) throw new UserError('bad-option', 'both styles must be of one pack');
    const pack = pickPack(ctx, a.pack);
    const face = await photoFace(ctx, caller, input.photo);
    if (!face) throw new UserError('no-photo');
    const blend = (r: number): StyleChoice => ({
      kind: 'blend',
      pack: pack.name,
      a: a.part,
      b: b.part,
      ratio: r,
    });
    const options = { preserveColor: false };
    if (!input.strip) {
      await runJob(ctx, caller, { pack, face, style: blend(ratio), options }, send);
      return;
    }
    const [first, ...rest] = fusionRatios(STRIP_STEPS).map(blend);
    await runJob(
      ctx,
      caller,
      { pack, face, style: first!, variants: rest, columns: STRIP_STEPS, options },
      send,
    );
  },
};

/** One side of the blend: a reference, or a bare exemplar id or name of the pack. */
async function side(
  ctx: CommandContext,
  text: string,
  packName: string | undefined,
): Promise<{ pack: string; part: StylePart }> {
  const style: ReferableStyle = text.includes(':')
    ? await resolveStyleRef(ctx, text)
    : { kind: 'exemplar', pack: pickPack(ctx, packName).name, exemplar: exemplarOf(text) };
  if (style.kind === 'blend') throw new UserError('bad-option', 'blend two styles, not a blend');
  return { pack: style.pack, part: partOf(style) };
}

const exemplarOf = (text: string): number | string => (/^\d+$/.test(text) ? Number(text) : text);
