/**
 * A job's images of a generator batch → the one file it answers with: the crop, several crops
 * as one picture (a grid or a fusion strip), or the faces pasted back into the photo. Runs in the
 * inference host, beside the generator, since pasting and encoding are heavy pixel work.
 */
import sharp from 'sharp';
import type { TensorData } from '../runtime/session.ts';
import { composeTiles } from './compose.ts';
import { decodeImage, type DecodeOptions, type RgbImage } from './decode.ts';
import {
  encodeImage,
  encodeRgbImage,
  toRgb,
  type EncodedImage,
  type OutputOptions,
} from './encode.ts';
import { pasteFaces } from './paste.ts';

/** What one job makes of its images. */
export interface JobOutput extends OutputOptions {
  /** How many consecutive images of the batch are this job's (its faces or its tiles). */
  images: number;
  /** Tiles laid out this many to a row; default all in one row. */
  columns?: number;
  /** Paste image i back into the photo at `quads[i]` (FaceInfo.quad), at most `maxSide` wide. */
  paste?: { photo: Uint8Array; quads: number[][][]; maxSide?: number };
}

/**
 * Renders images `offset … offset + output.images − 1` of a raw batch; `pasteMs` is the time the
 * paste-back took (decoding the photo included).
 */
export async function renderOutput(
  raw: TensorData,
  offset: number,
  output: JobOutput,
  photoLimits?: DecodeOptions,
): Promise<{ image: EncodedImage; pasteMs?: number }> {
  const file = { format: output.format, quality: output.quality };
  const rgbs = Array.from({ length: output.images }, (_, i) => toRgb(raw, offset + i));
  if (output.paste) {
    const { photo, quads, maxSide } = output.paste;
    const start = performance.now();
    const decoded = await decodeImage(photo, photoLimits);
    const whole = await pasteFaces(
      decoded,
      quads.map((quad, i) => ({ image: square(rgbs[i]!), quad })),
      maxSide !== undefined ? { maxSide } : {},
    );
    const pasteMs = performance.now() - start;
    return { image: await encodeRgbImage(whole, file), pasteMs };
  }
  if (rgbs.length === 1) {
    const [rgb] = rgbs as [{ data: Uint8Array; size: number }];
    return { image: await encodeImage(rgb.data, rgb.size, output) };
  }
  const tiles = await Promise.all(
    rgbs.map((rgb) => (rgb.size === output.size ? square(rgb) : resizeSquare(rgb, output.size))),
  );
  return { image: await encodeRgbImage(composeTiles(tiles, output.columns ?? tiles.length), file) };
}

const square = ({ data, size }: { data: Uint8Array; size: number }): RgbImage => ({
  data,
  width: size,
  height: size,
});

async function resizeSquare(
  { data, size }: { data: Uint8Array; size: number },
  to: number,
): Promise<RgbImage> {
  const out = await sharp(data, { raw: { width: size, height: size, channels: 3 } })
    .resize(to, to, { kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(out.buffer, out.byteOffset, out.length), width: to, height: to };
}
