import { NoFaceError, UserError } from '../errors.ts';
import type { RgbImage } from '../image/decode.ts';
import { ALIGNED_SIZE, alignFace } from './align.ts';
import { DETECT_MAX_SIDE, detectFaces, faceApiLandmarks, type FaceBox } from './detect.ts';
import { DEFAULT_LANDMARK_MODEL, loadShapePredictor, refineLandmarks } from './landmarks.ts';
import type { Point, Quad } from './warp.ts';

export { ALIGNED_SIZE, alignFace, ffhqQuad, type AlignedFace, type FfhqQuad } from './align.ts';
export { detectFaces, loadFaceApi, type DetectedFace, type FaceBox } from './detect.ts';
export { DEFAULT_LANDMARK_MODEL, loadShapePredictor } from './landmarks.ts';
export type { Point, Quad } from './warp.ts';

/** Policy for finding the face to stylize. */
export interface FaceOptions {
  /** Smallest detection box side accepted, in photo pixels. Default 32. */
  minFaceSize?: number;
  /** Side of the aligned crop. Default 256, what the encoder takes. */
  size?: number;
  /**
   * dlib's 68-point model, which makes crops match the reference's; `null` uses face-api's
   * landmarks alone (quads typically 1–3% of their size off the reference's). A missing file
   * counts as `null`. Default {@link DEFAULT_LANDMARK_MODEL}.
   */
  landmarkModel?: string | null;
}

/** The largest face of a photo, aligned the way the FFHQ-trained models expect. */
export interface AlignedPhotoFace {
  /** `size`×`size`×3 RGB, row-major (HWC). */
  crop: Uint8Array;
  size: number;
  /** The aligned square's corners in the photo (NW, SW, SE, NE). */
  quad: Quad;
  /** Side of the aligned square in photo pixels. */
  qsize: number;
  /** The detector's box around the face. */
  box: FaceBox;
  /** 68 landmarks (iBUG 300-W order) in photo pixels. */
  landmarks: Point[];
  /** How many faces the photo holds; only the largest is used. */
  faceCount: number;
  /** Detector confidence for the face used, 0..1. */
  score: number;
  /** Whose landmarks these are: dlib's (as the reference) or face-api's (fallback). */
  landmarker: 'dlib' | 'face-api';
}

/**
 * Loads the detector, the landmark models and tfjs's kernels ahead of the first photo (the first
 * detection otherwise pays 1.5–3 s of start-up).
 */
export async function warmUpFaces(options: FaceOptions = {}): Promise<void> {
  const { landmarkModel = DEFAULT_LANDMARK_MODEL } = options;
  // As large as the detector ever sees a photo, so TensorFlow.js's WebAssembly heap has grown.
  const side = DETECT_MAX_SIDE;
  const image = { data: new Uint8Array(side * side * 3).fill(128), width: side, height: side };
  const [sp] = await Promise.all([
    landmarkModel === null ? undefined : loadShapePredictor(landmarkModel),
    detectFaces(image),
  ]);
  // A grey square has no face, so the steps after detection are warmed on a made-up one: the
  // landmark net's first run otherwise lands on the first request.
  const guess = await faceApiLandmarks(image, {
    box: { x: side / 4, y: side / 4, width: side / 2, height: side / 2 },
    score: 1,
  });
  if (sp) refineLandmarks(image, sp, guess);
}

/**
 * Finds the largest face in a photo and aligns it to a `size`² crop by the FFHQ recipe.
 * Throws {@link NoFaceError} when there is no face and `UserError('face-too-small')` when the
 * face's box is under `minFaceSize` pixels.
 *
 * @example
 * const photo = await decodeImage(bytes);
 * const { crop, faceCount } = await findAndAlignFace(photo);
 */
export async function findAndAlignFace(
  image: RgbImage,
  options: FaceOptions = {},
): Promise<AlignedPhotoFace> {
  const { minFaceSize = 32, size = ALIGNED_SIZE, landmarkModel = DEFAULT_LANDMARK_MODEL } = options;
  const faces = await detectFaces(image);
  const face = faces[0];
  if (!face) throw new NoFaceError(`${image.width}×${image.height} photo`);
  const side = Math.max(face.box.width, face.box.height);
  if (side < minFaceSize) {
    throw new UserError(
      'face-too-small',
      `face box ${Math.round(side)} px, minimum ${minFaceSize}`,
    );
  }

  const guess = await faceApiLandmarks(image, face);
  const sp = landmarkModel === null ? undefined : await loadShapePredictor(landmarkModel);
  const landmarks = sp ? refineLandmarks(image, sp, guess) : guess;
  const aligned = await alignFace(image, landmarks, size);
  return {
    ...aligned,
    box: face.box,
    landmarks,
    faceCount: faces.length,
    score: face.score,
    landmarker: sp ? 'dlib' : 'face-api',
  };
}
