/**
 * `pastiche models import <dir>`: packs from a model family's release files (DualStyleGAN's by
 * default; its layout is in families/dualstylegan/release.ts). What every family's import shares
 * is here: pack names from folder names, skipping what is already installed from the same
 * files, refusing to replace a pack of another kind, and cleaning up a failed first import.
 */
import { existsSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../checkpoint/errors.ts';
import { familyFor } from '../families/index.ts';
import {
  DEFAULT_ARCHITECTURE,
  MANIFEST,
  PACK_FORMAT,
  readManifest,
  type FileEntry,
  type Manifest,
  wPlusEncoderName,
} from './manifest.ts';

/** The shared pack official styles pair with. */
export const OFFICIAL_ENCODER_PACK = 'encoder';

/** The shared encoder packs (z+ and W+), which no style may replace. */
const SHARED_ENCODER_PACKS = [OFFICIAL_ENCODER_PACK, wPlusEncoderName(OFFICIAL_ENCODER_PACK)];

export interface ImportOptions {
  out: string;
  /** Only these styles (directory names); default: every style directory found. */
  styles?: string[];
  /** Called as each pack starts, for progress output. */
  onPack?: (name: string) => void;
  /** The model family whose release `dir` is (default DualStyleGAN). */
  architecture?: string;
}

/**
 * The installed pack `name` if it was made from exactly these source files (same sha256), so
 * re-running an import or a pull does not rebuild a 1 GB pack for nothing.
 */
export function installedFrom(
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

const PACK_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * The pack name of each style folder, refusing names that would replace another pack: the
 * shared encoder pack (a folder `Encoder` must not become pack `encoder`), and two folders that
 * differ only in case or punctuation (`Cartoon` and `cartoon`).
 */
export function stylePackNames(dir: string, styles: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  const owners = new Map<string, string>(
    SHARED_ENCODER_PACKS.map((pack) => [pack, `the shared encoder pack "${pack}"`]),
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
export function assertReplaceable(
  out: string,
  name: string,
  kind: Manifest['kind'],
  source: string,
) {
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
 * Imports a release folder through its model family (DualStyleGAN unless `architecture` says).
 * When it fails, an `out` it had to create is removed again if nothing was installed there.
 */
export async function importOfficial(dir: string, options: ImportOptions): Promise<Manifest[]> {
  if (!existsSync(dir)) throw new CheckpointError('not-found', dir, 'no such directory');
  if (!statSync(dir).isDirectory()) {
    throw new CheckpointError('not-found', dir, 'a file, not the release folder of checkpoints');
  }
  const created = !existsSync(options.out);
  try {
    const family = await familyFor(options.architecture ?? DEFAULT_ARCHITECTURE);
    if (!family.packs) throw new Error(`the ${family.architecture} family imports no checkpoints`);
    return await family.packs.importRelease(dir, options);
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
