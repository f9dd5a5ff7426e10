/** Photo bytes → the face's z+ content code: decode, find and align the face, encode. */
import { findAndAlignFace, findAndAlignFaces, type FaceOptions } from './face/index.ts';
import type { AlignedPhotoFace } from './face/index.ts';
import { decodeImage, type DecodeOptions } from './image/decode.ts';
import type { LoadedEncoder } from './runtime/loaded.ts';
import type { JobContext } from './scheduler/types.ts';
import type { Timings } from './engine.ts';

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

type Timer = <T>(stage: keyof Timings, step: () => Promise<T> | T) => Promise<T>;

export async function encodeFace(
  bytes: Uint8Array,
  encoder: LoadedEncoder,
  ctx: Pick<JobContext, 'stage' | 'signal'>,
  time: Timer,
  options: { photo?: PhotoLimits; face?: FaceOptions },
): Promise<{ code: Float32Array; face: FaceInfo }> {
  ctx.stage('aligning');
  const image = await time('decode', () => decodeImage(bytes, options.photo));
  ctx.signal.throwIfAborted();
  const aligned = await time('detect', () => findAndAlignFace(image, options.face));
  ctx.signal.throwIfAborted();
  ctx.stage('encoding');
  const [code] = await time('encode', () => encoder.encode([aligned.crop]));
  return { code: code!, face: faceInfo(aligned) };
}

/**
 * Every face of a group photo (up to `maxFaces`), encoded in one encoder call; faces that could
 * not be aligned are counted in `skipped` and stay as they were.
 */
export async function encodeFaces(
  bytes: Uint8Array,
  encoder: LoadedEncoder,
  ctx: Pick<JobContext, 'stage' | 'signal'>,
  time: Timer,
  options: { photo?: PhotoLimits; face?: FaceOptions; maxFaces?: number },
): Promise<{ codes: Float32Array[]; faces: FaceInfo[]; skipped: number }> {
  ctx.stage('aligning');
  const image = await time('decode', () => decodeImage(bytes, options.photo));
  ctx.signal.throwIfAborted();
  const found = await time('detect', () =>
    findAndAlignFaces(image, {
      ...options.face,
      ...(options.maxFaces !== undefined && { maxFaces: options.maxFaces }),
    }),
  );
  ctx.signal.throwIfAborted();
  ctx.stage('encoding');
  const codes = await time('encode', () => encoder.encode(found.faces.map((f) => f.crop)));
  return { codes, faces: found.faces.map(faceInfo), skipped: found.skipped.length };
}

function faceInfo(aligned: AlignedPhotoFace): FaceInfo {
  const { x, y, width, height } = aligned.box;
  return {
    faceCount: aligned.faceCount,
    box: [x, y, width, height],
    landmarks: aligned.landmarks.map(([px, py]) => [px, py]),
    quad: aligned.quad.map(([px, py]) => [px, py]),
    qsize: aligned.qsize,
  };
}
