import sharp, { type Metadata } from 'sharp';
import { UserError } from '../errors.ts';

/** An 8-bit sRGB image, 3 bytes per pixel, row-major (HWC), no padding between rows. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Formats a photo may arrive in; anything else is refused before it reaches a decoder. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'heif';

/** A decoded photo: upright (EXIF orientation applied), alpha flattened on white. */
export interface DecodedImage extends RgbImage {
  /** What the leading bytes say the file is. */
  format: ImageFormat;
}

/** Limits for untrusted photos. */
export interface DecodeOptions {
  /** Largest file accepted, in bytes. Default 20 MB. */
  maxBytes?: number;
  /** Largest width × height accepted, read from the header before decoding. Default 50 MP. */
  maxPixels?: number;
  /** Smallest side accepted, in pixels; there is no face to find in a thumbnail. Default 64. */
  minSide?: number;
}

export const DEFAULT_DECODE_OPTIONS: Readonly<Required<DecodeOptions>> = Object.freeze({
  maxBytes: 20 * 1024 * 1024,
  maxPixels: 50_000_000,
  minSide: 64,
});

/**
 * Decodes an untrusted photo into 8-bit sRGB pixels, in memory only. The leading bytes must be
 * those of a format in {@link ImageFormat}; dimensions are checked from the header before any
 * pixel is decoded, so a decompression bomb costs nothing. GIFs give their first frame; CMYK,
 * greyscale, 16-bit and palette images are converted; EXIF orientation is applied.
 *
 * Every failure is a {@link UserError}: `empty-file`, `file-too-large`, `not-an-image`,
 * `too-many-pixels`, `image-too-small` or `corrupt-image`.
 *
 * @example
 * const photo = await decodeImage(bytes, { maxBytes: 8e6 });
 * photo.data.length === photo.width * photo.height * 3;
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  const { maxBytes, maxPixels, minSide } = { ...DEFAULT_DECODE_OPTIONS, ...options };
  if (bytes.length === 0) throw new UserError('empty-file');
  if (bytes.length > maxBytes) {
    throw new UserError('file-too-large', `${bytes.length} bytes, limit ${maxBytes}`);
  }
  const format = sniffImageFormat(bytes);
  if (!format) throw new UserError('not-an-image', `leading bytes ${hexPrefix(bytes)}`);

  const header = (format === 'png' && pngDimensions(bytes)) || (await readHeader(bytes));
  const { width, height } = header;
  if (width * height > maxPixels) {
    throw new UserError('too-many-pixels', `${width}×${height}, limit ${maxPixels} pixels`);
  }
  if (Math.min(width, height) < minSide) {
    throw new UserError('image-too-small', `${width}×${height}, smallest side allowed ${minSide}`);
  }
  if (format === 'heif' && header.compression === 'hevc') {
    // The prebuilt libvips reads AVIF but ships no HEVC decoder (patents): an iPhone HEIC.
    throw new UserError('not-an-image', 'HEIC (HEVC) photos cannot be decoded here');
  }
  return { ...(await decodePixels(bytes, maxPixels)), format };
}

/**
 * The format the leading bytes announce, or `undefined` for anything else (HTML, text, SVG,
 * TIFF, PDF…). Only signatures are checked: a file can still turn out to be corrupt.
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const ascii = (start: number, end: number): string =>
    String.fromCharCode(...bytes.subarray(start, end));
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(4, 8) === 'ftyp') return isoBrandFormat(bytes);
  return undefined;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

/** AVIF and HEIF share ISO-BMFF's `ftyp` box: major brand, minor version, compatible brands. */
function isoBrandFormat(bytes: Uint8Array): ImageFormat | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxEnd = Math.min(bytes.length >= 4 ? view.getUint32(0) : 0, bytes.length, 4096);
  const brands = [bytes.subarray(8, 12)];
  for (let at = 16; at + 4 <= boxEnd; at += 4) brands.push(bytes.subarray(at, at + 4));
  const names = brands.map((b) => String.fromCharCode(...b));
  if (names.some((b) => AVIF_BRANDS.has(b))) return 'avif';
  if (names.some((b) => HEIF_BRANDS.has(b))) return 'heif';
  return undefined;
}

interface Header {
  width: number;
  height: number;
  compression?: string;
}

/**
 * A PNG's size from its IHDR chunk, which must come first. libspng refuses absurd sizes as a
 * "corrupt header", which would hide from the user that the image is merely too large.
 */
function pngDimensions(bytes: Uint8Array): Header | undefined {
  if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
    return undefined;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 24);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** Width and height of the first frame, from the header alone (no pixel is decoded). */
async function readHeader(bytes: Uint8Array): Promise<Header> {
  let meta: Metadata;
  try {
    // No pixel limit here: the caller compares the size itself, to report it precisely.
    meta = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
  } catch (e) {
    throw new UserError('corrupt-image', `header: ${errorText(e)}`);
  }
  const height = meta.pageHeight ?? meta.height;
  if (!(meta.width > 0 && height > 0)) {
    throw new UserError('corrupt-image', `header gives ${meta.width}×${height}`);
  }
  return { width: meta.width, height, compression: meta.compression };
}

async function decodePixels(bytes: Uint8Array, maxPixels: number): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, {
      // A second guard, should a decoder see other dimensions than the header reader did.
      limitInputPixels: maxPixels,
      // Phones write JPEGs with harmless warnings; a cut-off file is still refused.
      failOn: 'error',
      autoOrient: true,
      pages: 1,
    })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (info.channels !== 3 || pixels.length !== info.width * info.height * 3) {
      throw new UserError('corrupt-image', `decoded to ${info.channels} channels`);
    }
    return { data: pixels, width: info.width, height: info.height };
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError('corrupt-image', errorText(e));
  }
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

function hexPrefix(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, 8)).toString('hex');
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
