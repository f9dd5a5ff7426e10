/**
 * Results must fit the channel's upload limit (10 MiB by default; `attachmentSizeLimit` says the
 * real one). The engine's JPEGs are far under it, so this rarely runs: when a result is too
 * large, it is re-encoded as a smaller JPEG with the engine's own image code.
 */
import { decodeImage, type EncodedImage, encodeImage } from '../../engine/index.ts';

/** Quality first (invisible at 80), then the side: each step roughly halves the bytes. */
const STEPS: readonly { scale: number; quality: number }[] = [
  { scale: 1, quality: 80 },
  { scale: 1, quality: 60 },
  { scale: 0.75, quality: 60 },
  { scale: 0.5, quality: 60 },
  { scale: 0.25, quality: 50 },
];

/** Discord's default upload limit, for messages sent without an interaction. */
export const DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024;

/**
 * The image, or a smaller JPEG of it that fits `limit` bytes (the smallest step if none does).
 *
 * @example
 * const image = await fitImage(reply.image, interaction.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT);
 */
export async function fitImage(image: EncodedImage, limit: number): Promise<EncodedImage> {
  if (image.bytes.length <= limit) return image;
  const rgb = await decodeImage(image.bytes, {
    maxBytes: image.bytes.length,
    maxPixels: image.width * image.height,
    minSide: 1,
  });
  let smallest = image;
  for (const { scale, quality } of STEPS) {
    const size = Math.max(1, Math.round(rgb.width * scale));
    // Results are square; `encodeImage` takes the side of the square it is given.
    smallest = await encodeImage(rgb.data, rgb.width, { size, format: 'jpeg', quality });
    if (smallest.bytes.length <= limit) break;
  }
  return smallest;
}
