/**
 * `pastiche models pull <style…>`: the official DualStyleGAN files from the Hugging Face hub
 * (`dualstylegan.md` §5), downloaded into a folder that mirrors the release layout, then
 * imported into packs by the same code as `models import`.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  downloadFile,
  type DownloadOptions,
  type DownloadOutcome,
  type DownloadProgress,
} from './download.ts';
import { DownloadError, probe } from './hub.ts';
import { OFFICIAL_LICENCE, PackError, type Manifest } from './manifest.ts';
import { importOfficial } from './official.ts';

/** Styles of `CVPR/DualStyleGAN` when this was written; only used to make a 404 helpful. */
const KNOWN_STYLES = ['cartoon', 'caricature', 'anime', 'arcane', 'comic', 'pixar', 'slamdunk'];

/** A file of the release: its path under `models/` in the repo and whether a style may lack it. */
export interface ReleaseFile {
  path: string;
  optional: boolean;
}

export interface PullOptions {
  /** e.g. `https://huggingface.co` (a mirror or a local test server works the same). */
  hubUrl: string;
  /** e.g. `CVPR/DualStyleGAN`. */
  repo: string;
  styles: readonly string[];
  /** Where the files go, laid out as the release: `encoder.pt`, `<style>/generator.pt`, … */
  downloadsDir: string;
  /** Where the packs go. */
  out: string;
  /** Cancellation, stall timeout and retries of each file. */
  download?: Pick<DownloadOptions, 'signal' | 'idleTimeoutMs' | 'retries' | 'retryDelayMs'>;
  onEvent?: (event: PullEvent) => void;
}

/** What a pull reports as it goes; `licence` always comes first, before any request. */
export type PullEvent =
  | { type: 'licence'; text: string }
  | { type: 'planned'; files: ReleaseFile[]; totalBytes: number }
  | { type: 'file-start'; file: ReleaseFile; progress: DownloadProgress }
  | { type: 'file-progress'; file: ReleaseFile; progress: DownloadProgress }
  | { type: 'file-done'; file: ReleaseFile; outcome: DownloadOutcome }
  | { type: 'file-missing'; file: ReleaseFile }
  | { type: 'retry'; file: ReleaseFile; error: DownloadError }
  | { type: 'import'; pack: string };

export interface PullResult {
  downloaded: DownloadOutcome[];
  /** Optional files the hub does not have (no W+ encoder, no sampler, no refined codes). */
  missing: ReleaseFile[];
  manifests: Manifest[];
}

const STYLE_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * The release files for `styles`: the shared encoders first, then each style's. The W+ encoder
 * (`encoder_wplus.pt`, the `identity` encoder) is imported as `encoder-wplus` when the repository
 * publishes it; without it only the `style` encoder serves.
 */
export function releaseFiles(styles: readonly string[]): ReleaseFile[] {
  return [
    { path: 'encoder.pt', optional: false },
    { path: 'encoder_wplus.pt', optional: true },
    ...styles.flatMap((style) => [
      { path: `${style}/generator.pt`, optional: false },
      { path: `${style}/exstyle_code.npy`, optional: false },
      { path: `${style}/refined_exstyle_code.npy`, optional: true },
      { path: `${style}/sampler.pt`, optional: true },
    ]),
  ];
}

function fileUrl(options: PullOptions, file: ReleaseFile): string {
  const base = options.hubUrl.replace(/\/+$/, '');
  return `${base}/${options.repo}/resolve/main/models/${file.path}`;
}

/** Turns a 404 on a style's generator into "no such style", the likely meaning. */
function explain(error: unknown, options: PullOptions, file: ReleaseFile): unknown {
  if (!(error instanceof DownloadError) || error.kind !== 'not-found') return error;
  const style = file.path.split('/')[0]!;
  const detail =
    file.path === 'encoder.pt'
      ? `the hub has no models/encoder.pt in ${options.repo}`
      : `no style "${style}" in ${options.repo} (known: ${KNOWN_STYLES.join(', ')})`;
  return new DownloadError('not-found', error.url, error.file, detail, { cause: error });
}

/**
 * Downloads the encoder and `styles` (licence first), then imports them into packs in `out`.
 * Every file is checked with a HEAD before any is downloaded, so a misspelt style fails fast.
 *
 * @throws {DownloadError} offline, an unknown style, a checksum mismatch (no pack is written).
 * @example
 * await pullStyles({ hubUrl: 'https://huggingface.co', repo: 'CVPR/DualStyleGAN',
 *   styles: ['cartoon'], downloadsDir: 'models/.downloads', out: 'models' });
 */
export async function pullStyles(options: PullOptions): Promise<PullResult> {
  const emit = options.onEvent ?? (() => {});
  emit({ type: 'licence', text: OFFICIAL_LICENCE });
  const styles = [...new Set(options.styles)];
  for (const style of styles) {
    if (!STYLE_NAME.test(style)) throw new PackError(style, 'not a style name (e.g. cartoon)');
  }
  const planned = releaseFiles(styles);
  const present: ReleaseFile[] = [];
  const missing: ReleaseFile[] = [];
  let totalBytes = 0;
  for (const file of planned) {
    try {
      const target = { url: fileUrl(options, file), file: join(options.downloadsDir, file.path) };
      totalBytes += (await probe(target, options.download)).size ?? 0;
      present.push(file);
    } catch (error) {
      const absent = error instanceof DownloadError && error.kind === 'not-found';
      if (!absent || !file.optional) throw explain(error, options, file);
      // A copy from an earlier pull must not be imported as if the hub still had it.
      await rm(join(options.downloadsDir, file.path), { force: true });
      missing.push(file);
      emit({ type: 'file-missing', file });
    }
  }
  emit({ type: 'planned', files: present, totalBytes });

  const downloaded: DownloadOutcome[] = [];
  for (const file of present) {
    const outcome = await downloadFile(
      fileUrl(options, file),
      join(options.downloadsDir, file.path),
      {
        ...options.download,
        onStart: (progress) => emit({ type: 'file-start', file, progress }),
        onProgress: (progress) => emit({ type: 'file-progress', file, progress }),
        onRetry: (error) => emit({ type: 'retry', file, error }),
      },
    ).catch((error: unknown) => {
      throw explain(error, options, file);
    });
    downloaded.push(outcome);
    emit({ type: 'file-done', file, outcome });
  }

  const manifests = await importOfficial(options.downloadsDir, {
    out: options.out,
    styles,
    onPack: (pack) => emit({ type: 'import', pack }),
  });
  return { downloaded, missing, manifests };
}
