/** `pastiche stylize <photo>`: one portrait from the command line. */
import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Option, type Command } from 'commander';
import { Engine } from '../engine/engine.ts';
import {
  encoderChoice,
  type EncoderChoice,
  type OutputFormat,
  type StylizeRequest,
} from '../engine/request.ts';
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

/** `cartoon`, `cartoon:26` or `cartoon:Cartoons_00038_07` → pack and exemplar. */
function parseStyle(value: string): { pack: string; exemplar?: string } {
  const [pack, exemplar] = value.split(':', 2) as [string, string | undefined];
  return exemplar === undefined ? { pack } : { pack, exemplar };
}

const number = (value: string | undefined): number | undefined =>
  value === undefined ? undefined : Number(value);

export function registerStylize(program: Command): void {
  program
    .command('stylize <photo>')
    .description('stylize a photo with a style pack')
    .requiredOption('--style <pack[:exemplar]>', 'style pack, optionally an exemplar id or name')
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
    .option('--noise-seed <seed>', 'fresh noise from a seed instead of the stored buffers')
    .option('-o, --output <file>', 'output image (.jpg, .webp or .png)', 'out.jpg')
    .option('--json', 'print the face, alignment, style and timings as JSON')
    .option('--models <dir>', 'packs directory', DEFAULT_MODELS_DIR)
    .action(async (photoPath: string, o: StylizeOptions) => {
      const format = FORMATS[extname(o.output).toLowerCase()];
      if (!format) program.error(`--output must end in .jpg, .webp or .png, not ${o.output}`);
      const { pack, exemplar } = parseStyle(o.style);
      const style: StylizeRequest['style'] = o.random
        ? { kind: 'sampled', pack, structureSeed: o.random, colorSeed: o.random }
        : o.exemplar
          ? { kind: 'image', pack, image: new Uint8Array(readFileSync(o.exemplar)) }
          : { kind: 'exemplar', pack, ...(exemplar !== undefined && { exemplar }) };
      const engine = await Engine.create({
        modelsDir: o.models,
        cacheUrl: 'memory',
        warmup: false,
      });
      try {
        const result = await engine.stylize({
          userId: 'cli',
          face: { kind: 'photo', bytes: new Uint8Array(readFileSync(photoPath)) },
          style,
          structure: number(o.structure),
          color: number(o.color),
          truncation: number(o.truncation),
          size: number(o.size),
          preserveColor: o.preserveColor ?? false,
          ...(o.encoder !== undefined && { encoder: o.encoder }),
          format,
          ...(o.noiseSeed !== undefined && { noiseSeed: o.noiseSeed }),
        });
        writeFileSync(o.output, result.image.bytes);
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
          console.log(`wrote ${o.output} (${faces}${describeStyle(result.style)})`);
        }
      } finally {
        await engine.close();
      }
    });
}

function describeStyle(s: Awaited<ReturnType<Engine['stylize']>>['style']): string {
  if (s.kind === 'exemplar') return `${s.pack} exemplar ${s.exemplar!.id} ${s.exemplar!.name}`;
  if (s.kind === 'sampled') return `${s.pack} sampled from seed ${s.structureSeed}`;
  return `${s.pack} with your exemplar image`;
}
