/** Photo bytes → the face, aligned as the encoder expects: decode, find the face, align. */
import { findAndAlignFace, type FaceOptions } from './face/index.ts';
import { decodeImage, type DecodeOptions } from './image/decode.ts';
import { UserError } from './errors.ts';

export type { FaceOptions };
export type PhotoLimits = DecodeOptions;

/** Where the face was found, in photo pixels; what `--json` and the cache keep. */
export interface FaceInfo {
  faceCount: number;
  box: number[];
  landmarks: number[][];
  /** Corners of the aligned square (the FFHQ quad) in the photo. */
  quad: number[][];
  qsize: number;
}

export interface AlignedPhoto {
  /** The aligned crop, HWC RGB, the encoder's input. */
  crop: Uint8Array;
  face: FaceInfo;
  decodeMs: number;
  detectMs: number;
}

/** Decodes a photo and aligns its largest face; stops between the steps once `signal` aborts. */
export async function alignPhoto(
  bytes: Uint8Array,
  options: { photo?: PhotoLimits; face?: FaceOptions },
  signal: AbortSignal,
): Promise<AlignedPhoto> {
  let start = performance.now();
  const image = await decodeImage(bytes, options.photo);
  const decodeMs = performance.now() - start;
  if (signal.aborted) throw new UserError('cancelled', 'stopped after decoding');
  start = performance.now();
  const aligned = await findAndAlignFace(image, options.face);
  const { x, y, width, height } = aligned.box;
  return {
    crop: aligned.crop,
    face: {
      faceCount: aligned.faceCount,
      box: [x, y, width, height],
      landmarks: aligned.landmarks.map(([px, py]) => [px, py]),
      quad: aligned.quad.map(([px, py]) => [px, py]),
      qsize: aligned.qsize,
    },
    decodeMs,
    detectMs: performance.now() - start,
  };
}
