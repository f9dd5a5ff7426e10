/**
 * `pastiche models import <dir>`: packs from the files as the DualStyleGAN release ships them
 * (`encoder.pt`, `<style>/generator.pt`, `<style>/sampler.pt`, `<style>/*exstyle_code.npy`).
 */
import { existsSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CheckpointError } from '../checkpoint/errors.ts';
import { readNpy } from '../checkpoint/npy.ts';
import {
  openTorchCheckpoint,
  stateDictAt,
  tensorAt,
  valueAt,
  type TorchCheckpoint,
} from '../checkpoint/torch.ts';
import { writeEncoderPack, writeStylePack } from './import.ts';
import {
  MANIFEST,
  OFFICIAL_LICENCE,
  PACK_FORMAT,
  readManifest,
  type FileEntry,
  type LatentSpace,
  type Manifest,
  wPlusEncoderName,
} from './manifest.ts';
import { describeFile } from './write.ts';

/** The shared pack official styles pair with. */
export const OFFICIAL_ENCODER_PACK = 'encoder';

/** The release's encoders by file name (nothing inside the files tells them apart). */
const ENCODERS: readonly { file: string; pack: string; space: LatentSpace }[] = [
  { file: 'encoder.pt', pack: OFFICIAL_ENCODER_PACK, space: 'z+' },
  { file: 'encoder_wplus.pt', pack: wPlusEncoderName(OFFICIAL_ENCODER_PACK), space: 'w+' },
];

// Refined codes (cartoon, caricature, anime) were optimised after encoding; prefer them.
const CODE_TABLES = ['refined_exstyle_code.npy', 'exstyle_code.npy'];

export interface ImportOptions {
  out: string;
  /** Only these styles (directory names); default: every style directory found. */
  styles?: string[];
  /** Called as each pack starts, for progress output. */
  onPack?: (name: string) => void;
}

function withCheckpoint<T>(file: string, body: (c: TorchCheckpoint) => Promise<T>): Promise<T> {
  const checkpoint = openTorchCheckpoint(file);
  return body(checkpoint).finally(() => checkpoint.close());
}

/**
 * The installed pack `name` if it was made from exactly these source files (same sha256), so
 * re-running an import or a pull does not rebuild a 1 GB pack for nothing.
 */
function installedFrom(
  out: string,
  name: string,
  sources: readonly FileEntry[],
): Manifest | undefined {
  const dir = join(out, name);
  if (!existsSync(join(dir, MANIFEST))) return undefined;
  const m = readManifest(dir);
  const same =
    m.sources.length === sources.length &&
    sources.every((s) => m.sources.some((t) => t.name === s.name && t.sha256 === s.sha256));
  return same && m.format === PACK_FORMAT ? m : undefined;
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

const PACK_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * The pack name of each style folder, refusing names that would replace another pack: the
 * shared encoder pack (a folder `Encoder` must not become pack `encoder`), and two folders that
 * differ only in case or punctuation (`Cartoon` and `cartoon`).
 */
export function stylePackNames(dir: string, styles: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  const owners = new Map<string, string>(
    ENCODERS.map(({ pack }) => [pack, `the shared encoder pack "${pack}"`]),
  );
  for (const style of styles) {
    const name = style.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
    if (!PACK_NAME.test(name)) {
      throw new CheckpointError(
        'bad-format',
        join(dir, style),
        `folder name gives pack name "${name}", which must start with a letter or digit`,
      );
    }
    const owner = owners.get(name);
    if (owner !== undefined) {
      throw new CheckpointError(
        'bad-format',
        join(dir, style),
        `folder would become pack "${name}", already taken by ${owner}; rename the folder`,
      );
    }
    owners.set(name, `style folder "${style}"`);
    names.set(style, name);
  }
  return names;
}

/** Refuses to replace an installed pack of another kind (a style over an encoder). */
function assertReplaceable(out: string, name: string, kind: Manifest['kind'], source: string) {
  const dir = join(out, name);
  if (!existsSync(join(dir, MANIFEST))) return;
  const installed = readManifest(dir);
  if (installed.kind !== kind) {
    throw new CheckpointError(
      'bad-format',
      source,
      `would replace the installed ${installed.kind} pack "${name}" with a ${kind} pack`,
    );
  }
}

/**
 * Imports the encoders (`dir/encoder.pt`, and `dir/encoder_wplus.pt` as a second, W+ pack) first,
 * then each style, so that styles can share the encoder pack's mapping network. When it fails,
 * an `out` it had to create is removed again if nothing was installed there.
 */
export async function importOfficial(dir: string, options: ImportOptions): Promise<Manifest[]> {
  if (!existsSync(dir)) throw new CheckpointError('not-found', dir, 'no such directory');
  const created = !existsSync(options.out);
  try {
    return await importAll(dir, options);
  } catch (error) {
    if (created) removeIfEmpty(options.out);
    throw error;
  }
}

/** Removes `dir` if it holds nothing (a failed first import leaves no empty `--out` behind). */
export function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Missing already, or not ours to remove: nothing to clean.
  }
}

async function importAll(dir: string, options: ImportOptions): Promise<Manifest[]> {
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
