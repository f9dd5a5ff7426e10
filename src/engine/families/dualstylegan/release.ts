/**
 * DualStyleGAN's release as `models import` reads it: `encoder.pt` (and `encoder_wplus.pt`),
 * `<style>/generator.pt`, `<style>/sampler.pt`, `<style>/*exstyle_code.npy`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CheckpointError } from '../../checkpoint/errors.ts';
import { readNpy } from '../../checkpoint/npy.ts';
import {
  openTorchCheckpoint,
  stateDictAt,
  tensorAt,
  valueAt,
  type TorchCheckpoint,
} from '../../checkpoint/torch.ts';
import { writeEncoderPack } from '../../pack/import.ts';
import {
  OFFICIAL_LICENCE,
  wPlusEncoderName,
  type LatentSpace,
  type Manifest,
} from '../../pack/manifest.ts';
import {
  OFFICIAL_ENCODER_PACK,
  assertReplaceable,
  installedFrom,
  stylePackNames,
  type ImportOptions,
} from '../../pack/official.ts';
import { describeFile } from '../../pack/write.ts';
import { writeStylePack } from './style-pack.ts';

/** The release's encoders by file name (nothing inside the files tells them apart). */
const ENCODERS: readonly { file: string; pack: string; space: LatentSpace }[] = [
  { file: 'encoder.pt', pack: OFFICIAL_ENCODER_PACK, space: 'z+' },
  { file: 'encoder_wplus.pt', pack: wPlusEncoderName(OFFICIAL_ENCODER_PACK), space: 'w+' },
];

// Refined codes (cartoon, caricature, anime) were optimised after encoding; prefer them.
const CODE_TABLES = ['refined_exstyle_code.npy', 'exstyle_code.npy'];

function withCheckpoint<T>(file: string, body: (c: TorchCheckpoint) => Promise<T>): Promise<T> {
  const checkpoint = openTorchCheckpoint(file);
  return body(checkpoint).finally(() => checkpoint.close());
}

async function importEncoder(
  file: string,
  out: string,
  pack: string,
  space: LatentSpace,
): Promise<Manifest> {
  const sources = [await describeFile(file, basename(file))];
  const installed = installedFrom(out, pack, sources);
  if (installed) return installed;
  return withCheckpoint(file, async (c) => {
    const opts = valueAt(c, ['opts']);
    const flag = (key: string): boolean => opts instanceof Map && opts.get(key) === true;
    if (flag('learn_in_w')) {
      throw new CheckpointError(
        'unsupported',
        file,
        'an encoder trained with learn_in_w (one W code) is not supported',
      );
    }
    return writeEncoderPack(
      out,
      pack,
      {
        stateDict: stateDictAt(c, ['state_dict']),
        latentAvg: flag('start_from_latent_avg') ? tensorAt(c, ['latent_avg']) : undefined,
        file,
      },
      { sources, licence: OFFICIAL_LICENCE, demo: false },
      space,
      { runGraphs: true },
    );
  });
}

async function importStyle(dir: string, name: string, out: string): Promise<Manifest> {
  const table = CODE_TABLES.find((t) => existsSync(join(dir, t)));
  if (!table)
    throw new CheckpointError(
      'not-found',
      dir,
      `no ${CODE_TABLES.join(' or ')} beside generator.pt`,
    );
  const codesFile = join(dir, table);
  const codes = readNpy(codesFile);
  if (codes.kind !== 'dict') {
    throw new CheckpointError(
      'bad-format',
      codesFile,
      'expected a dict of exemplar codes, found a plain array',
    );
  }
  const generatorFile = join(dir, 'generator.pt');
  const samplerFile = join(dir, 'sampler.pt');
  const files = [generatorFile, codesFile, ...(existsSync(samplerFile) ? [samplerFile] : [])];
  const sources = await Promise.all(files.map((f) => describeFile(f, `${name}/${basename(f)}`)));
  const installed = installedFrom(out, name, sources);
  if (installed) return installed;
  return withCheckpoint(generatorFile, async (generator) => {
    const sampler = existsSync(samplerFile) ? openTorchCheckpoint(samplerFile) : undefined;
    try {
      return await writeStylePack(
        out,
        name,
        OFFICIAL_ENCODER_PACK,
        {
          generator: stateDictAt(generator, ['g_ema']),
          generatorFile,
          ...(sampler && {
            sampler: {
              structure: stateDictAt(sampler, ['structure']),
              color: stateDictAt(sampler, ['color']),
              file: samplerFile,
            },
          }),
          codes: codes.entries,
          codesFile,
          codeTable: table,
        },
        { sources, licence: OFFICIAL_LICENCE, demo: false },
        { runGraphs: true },
      );
    } finally {
      sampler?.close();
    }
  });
}

/** Style directories of a release folder: those holding a `generator.pt`. */
export function findStyles(dir: string): string[] {
  return readdirSync(dir)
    .filter((d) => statSync(join(dir, d)).isDirectory() && existsSync(join(dir, d, 'generator.pt')))
    .sort();
}

/**
 * Imports the encoders (`dir/encoder.pt`, and `dir/encoder_wplus.pt` as a second, W+ pack) first,
 * then each style, so that styles can share the encoder pack's mapping network.
 */
export async function importRelease(dir: string, options: ImportOptions): Promise<Manifest[]> {
  const manifests: Manifest[] = [];
  for (const { file, pack, space } of ENCODERS) {
    if (!existsSync(join(dir, file))) continue;
    assertReplaceable(options.out, pack, 'encoder', join(dir, file));
    options.onPack?.(pack);
    manifests.push(await importEncoder(join(dir, file), options.out, pack, space));
  }
  const found = findStyles(dir);
  const wanted = options.styles ?? found;
  for (const style of wanted) {
    if (!found.includes(style)) {
      throw new CheckpointError('not-found', join(dir, style), 'no generator.pt for this style');
    }
  }
  // Checked for every style before the first is imported, so a collision costs no work.
  const names = stylePackNames(dir, wanted);
  for (const style of wanted) {
    const name = names.get(style)!;
    assertReplaceable(options.out, name, 'style', join(dir, style));
    options.onPack?.(name);
    manifests.push(await importStyle(join(dir, style), name, options.out));
  }
  if (manifests.length === 0) {
    throw new CheckpointError(
      'not-found',
      dir,
      'neither encoder.pt, encoder_wplus.pt nor any <style>/generator.pt found',
    );
  }
  return manifests;
}
