/** `pastiche stylize <photo>`: one portrait from the command line. */
import { randomBytes } from 'node:crypto';
import { extname } from 'node:path';
import { Option, type Command } from 'commander';
import {
  encoderChoice,
  type EncoderChoice,
  Engine,
  type OutputFormat,
  parseStyleRef,
  type ReferableStyle,
  type StylizeRequest,
  weightPreset,
  type WeightPreset,
} from '../engine/index.ts';
import { checkOutputFolder, readInput, writeOutput } from './files.ts';
import { DEFAULT_MODELS_DIR } from './models.ts';

interface StylizeOptions {
  style: string;
  random?: string;
  exemplar?: string;
  structure?: string;
  color?: string;
  preserveColor?: boolean;
  encoder?: EncoderChoice;
  truncation?: string;
  size?: string;
  noiseSeed?: string;
  wholePhoto?: boolean;
  allFaces?: boolean;
  preset?: WeightPreset;
  reconstruct?: boolean;
  output: string;
  json?: boolean;
  models: string;
}

const FORMATS: Record<string, OutputFormat> = {
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
  '.png': 'png',
};

/** A pack name alone (its first exemplar), or any style reference (style-ref.ts). */
function parseStyle(value: string): ReferableStyle {
  if (!value.includes(':')) return { kind: 'exemplar', pack: value };
  const ref = parseStyleRef(value, { newSeed: () => randomBytes(6).toString('hex') });
  if (ref.kind === 'result') throw new Error('the command line keeps no results: name the style');
  return ref.style;
}

const number = (value: string | undefined): number | undefined =>
  value === undefined ? undefined : Number(value);

export function registerStylize(program: Command): void {
  program
    .command('stylize <photo>')
    .description('stylize a photo with a style pack')
    .requiredOption(
      '--style <reference>',
      'style pack, or a reference: cartoon:26, cartoon:random:<s>:<c>, cartoon:26+3@0.5',
    )
    .option('--random <seed>', 'a style drawn by the pack sampler from this seed')
    .option('--exemplar <image>', 'use your own exemplar image as the style')
    .option('--structure <w>', 'structure weight 0–1')
    .option('--color <w>', 'colour weight 0–1')
    .option('--preserve-color', "keep the photo's colours")
    .addOption(
      new Option(
        '--encoder <which>',
        'style (z+, the default) or identity (the W+ encoder: keeps more of the face)',
      ).choices(encoderChoice.options),
    )
    .option('--truncation <t>', 'truncation 0–1')
    .option('--size <px>', 'output size (native or a power-of-two downscale)')
    .option('--whole-photo', 'paste the result back into the whole photo')
    .option('--all-faces', 'every face of a group photo (implies --whole-photo)')
    .addOption(new Option('--preset <name>', 'named weights').choices(weightPreset.options))
    .option('--reconstruct', 'the face as the encoder captured it, no style')
    .option('--noise-seed <seed>', 'fresh noise from a seed instead of the stored buffers')
    .option('-o, --output <file>', 'output image (.jpg, .webp or .png)', 'out.jpg')
    .option('--json', 'print the face, alignment, style and timings as JSON')
    .option('--models <dir>', 'packs directory', DEFAULT_MODELS_DIR)
    .action(async (photoPath: string, o: StylizeOptions) => {
      const format = FORMATS[extname(o.output).toLowerCase()];
      if (!format) program.error(`--output must end in .jpg, .webp or .png, not ${o.output}`);
      let named: ReferableStyle;
      try {
        named = parseStyle(o.style);
      } catch (error) {
        program.error(`--style: ${(error as Error).message}`);
      }
      // Checked before the engine starts, so a mistyped path costs no model loading.
      const photo = readInput(photoPath, 'The photo');
      checkOutputFolder(o.output, 'The --output file');
      const { pack } = named;
      const style: StylizeRequest['style'] = o.random
        ? { kind: 'sampled', pack, structureSeed: o.random, colorSeed: o.random }
        : o.exemplar
          ? { kind: 'image', pack, image: readInput(o.exemplar, 'The --exemplar image') }
          : named;
      const engine = await Engine.create({
        modelsDir: o.models,
        cacheUrl: 'memory',
        warmup: false,
      });
      try {
        const result = await engine.stylize({
          userId: 'cli',
          face: { kind: 'photo', bytes: photo },
          style,
          structure: number(o.structure),
          color: number(o.color),
          truncation: number(o.truncation),
          size: number(o.size),
          preserveColor: o.preserveColor ?? false,
          ...(o.encoder !== undefined && { encoder: o.encoder }),
          format,
          ...(o.noiseSeed !== undefined && { noiseSeed: o.noiseSeed }),
          ...(o.preset !== undefined && { preset: o.preset }),
          ...(o.reconstruct && { reconstruct: true }),
          ...((o.wholePhoto || o.allFaces) && { output: 'photo' as const }),
          ...(o.allFaces && { faces: 'all' as const }),
        });
        writeOutput(o.output, result.image.bytes, 'The --output file');
        if (o.json) {
          const { image, ...rest } = result;
          const summary = {
            output: o.output,
            width: image.width,
            height: image.height,
            bytes: image.bytes.length,
          };
          console.log(JSON.stringify({ ...summary, ...rest }, null, 2));
        } else {
          const faces = result.face ? `${result.face.faceCount} face(s), ` : '';
          const style = `${describeStyle(result.style)}, style ${result.style.reference}`;
          console.log(`wrote ${o.output} (${faces}${style})`);
        }
      } finally {
        await engine.close();
      }
    });
}

function describeStyle(s: Awaited<ReturnType<Engine['stylize']>>['style']): string {
  if (s.kind === 'exemplar') return `${s.pack} exemplar ${s.exemplar!.id} ${s.exemplar!.name}`;
  if (s.kind === 'sampled') return `${s.pack} sampled from seed ${s.structureSeed}`;
  if (s.kind === 'blend') return `${s.pack} fused style`;
  return `${s.pack} with your exemplar image`;
}
