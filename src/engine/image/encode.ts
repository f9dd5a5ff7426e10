/** Network output → an image file a chat can show. */
import sharp, { type Sharp } from 'sharp';
import type { TensorData } from '../runtime/session.ts';

export type OutputFormat = 'jpeg' | 'webp' | 'png';

export interface OutputOptions {
  /** Output side in pixels; smaller than the model's native size downsamples with Lanczos. */
  size: number;
  format: OutputFormat;
  /** JPEG/WebP quality, 1–100. */
  quality: number;
}

export interface EncodedImage {
  bytes: Uint8Array;
  format: OutputFormat;
  width: number;
  height: number;
}

/**
 * Image `index` of a raw generator batch [B,3,S,S] → RGB bytes (HWC): clamp to [-1, 1], then
 * `(x + 1) · 127.5`, rounded, as the reference saves its results.
 */
export function toRgb(image: TensorData, index: number): { data: Uint8Array; size: number } {
  const size = image.dims[3]!;
  const plane = size * size;
  const src = image.data.subarray(index * 3 * plane, (index + 1) * 3 * plane);
  const out = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const x = Math.min(1, Math.max(-1, src[c * plane + i]!));
      out[i * 3 + c] = Math.round((x + 1) * 127.5);
    }
  }
  return { data: out, size };
}

/** Encodes RGB bytes as JPEG, WebP or PNG, resized to `options.size`. */
export async function encodeImage(
  rgb: Uint8Array,
  side: number,
  options: OutputOptions,
): Promise<EncodedImage> {
  let pipeline = sharp(rgb, { raw: { width: side, height: side, channels: 3 } });
  if (options.size !== side)
    pipeline = pipeline.resize(options.size, options.size, { kernel: 'lanczos3' });
  return { ...(await toFile(pipeline, options)), width: options.size, height: options.size };
}

/** Encodes an RGB image of any shape (a whole photo, a grid) at its own size. */
export async function encodeRgbImage(
  image: { data: Uint8Array; width: number; height: number },
  options: Omit<OutputOptions, 'size'>,
): Promise<EncodedImage> {
  const { width, height } = image;
  const pipeline = sharp(image.data, { raw: { width, height, channels: 3 } });
  return { ...(await toFile(pipeline, options)), width, height };
}

async function toFile(
  pipeline: Sharp,
  options: Omit<OutputOptions, 'size'>,
): Promise<{ bytes: Uint8Array; format: OutputFormat }> {
  if (options.format === 'jpeg')
    pipeline = pipeline.jpeg({ quality: options.quality, mozjpeg: false });
  else if (options.format === 'webp') pipeline = pipeline.webp({ quality: options.quality });
  else pipeline = pipeline.png();
  return { bytes: new Uint8Array(await pipeline.toBuffer()), format: options.format };
}
