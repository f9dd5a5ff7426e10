import { createRequire } from 'node:module';
import path from 'node:path';
import { ready as tfReady, setBackend } from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import type { RgbImage } from '../image/decode.ts';
import { resizeRgb } from '../image/resize.ts';
import { eyeLineAngle } from './align.ts';
import { rotatedSquare, warpQuadBilinear, type Point } from './warp.ts';

/** An axis-aligned box in photo pixels (edges: a 1-pixel box at pixel 0 spans 0..1). */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A face the detector found. */
export interface DetectedFace {
  box: FaceBox;
  /** Detector confidence, 0..1. */
  score: number;
}

/**
 * The tiny face detector at two input sizes: at 416 it finds faces filling the frame (selfies)
 * but misses smaller ones (the second face of a group photo, ~10% of the side), at 608 the
 * reverse. The 608 pass runs only where 416 found no face or only one smaller than
 * {@link SMALL_FACE} of the photo's longer side, where faces it cannot see are likely: a portrait
 * takes one pass (measured on the fixtures: 0.31× the time of both, same faces and counts).
 * SSD MobileNet v1 took 0.5–1 s and called a cat a face.
 */
const INPUT_SIZES = [416, 608] as const;
const SMALL_FACE = 0.2;
const MIN_SCORE = 0.5;
/** Detections at the two sizes overlapping this much are the same face. */
const SAME_FACE_IOU = 0.3;
/**
 * The detector sees the photo at most this large: it works at 416 or 608 pixels anyway, and
 * turning a 12 MP photo into a tensor costs more than the detection.
 */
export const DETECT_MAX_SIDE = 1024;
/** Heads tilted more than this get their landmarks from an upright copy. */
const MAX_UPRIGHT_ROLL = (15 * Math.PI) / 180;
/** Input side of face-api's landmark net. */
const LANDMARK_INPUT = 112;

let ready: Promise<void> | undefined;

/**
 * Starts TensorFlow.js on its WebAssembly backend and loads face-api's weights from
 * `node_modules` (no network). Runs once; later calls return the same promise.
 */
export function loadFaceApi(): Promise<void> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    // A directory path (trailing separator) makes the backend read the .wasm files from disk.
    setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
    await setBackend('wasm');
    await tfReady();
    const models = path.join(path.dirname(require.resolve('@vladmandic/face-api')), '..', 'model');
    await faceapi.nets.tinyFaceDetector.loadFromDisk(models);
    await faceapi.nets.faceLandmark68Net.loadFromDisk(models);
  })();
  ready.catch(() => (ready = undefined));
  return ready;
}

/**
 * Every face in the photo, largest first. Heads tilted up to ±30° are found as they are; a
 * search of copies turned by ±30° found nothing more on the fixtures but a cat, so there is none.
 *
 * @example
 * const [largest] = await detectFaces(photo);
 */
export async function detectFaces(
  image: RgbImage,
  inputSizes: readonly number[] = INPUT_SIZES,
): Promise<DetectedFace[]> {
  await loadFaceApi();
  const scale = Math.min(1, DETECT_MAX_SIDE / Math.max(image.width, image.height));
  const small = scale < 1 ? await resizeRgb(image, scale) : image;
  const k = image.width / small.width;
  const longer = Math.max(small.width, small.height);
  const tensor = faceapi.tf.tensor3d(small.data, [small.height, small.width, 3], 'int32');
  try {
    const found: DetectedFace[] = [];
    for (const inputSize of inputSizes) {
      const largest = Math.max(0, ...found.map((f) => Math.max(f.box.width, f.box.height) / k));
      if (found.length > 0 && largest >= SMALL_FACE * longer) break;
      const options = new faceapi.TinyFaceDetectorOptions({ inputSize, scoreThreshold: MIN_SCORE });
      for (const d of await faceapi.detectAllFaces(tensor, options)) {
        const { x, y, width, height } = d.box;
        found.push({
          box: { x: x * k, y: y * k, width: width * k, height: height * k },
          score: d.score,
        });
      }
    }
    return suppressOverlaps(found).sort(
      (a, b) => b.box.width * b.box.height - a.box.width * a.box.height,
    );
  } finally {
    tensor.dispose();
  }
}

/**
 * face-api's 68 landmarks (iBUG order) for a detected face, in photo pixels. The landmark net
 * sees the square around the box, as face-api crops it; a head tilted more than
 * {@link MAX_UPRIGHT_ROLL} is shown to it again turned upright, since it was trained on
 * upright faces (a 30° tilt otherwise costs ~5% of the aligned square).
 */
export async function faceApiLandmarks(image: RgbImage, face: DetectedFace): Promise<Point[]> {
  await loadFaceApi();
  const side = Math.max(face.box.width, face.box.height);
  const centre: Point = [face.box.x + face.box.width / 2, face.box.y + face.box.height / 2];
  const first = await landmarksInSquare(image, centre, side, 0);
  const roll = eyeLineAngle(first);
  if (Math.abs(roll) <= MAX_UPRIGHT_ROLL) return first;
  const mean = first.reduce<Point>((a, p) => [a[0] + p[0] / 68, a[1] + p[1] / 68], [0, 0]);
  return landmarksInSquare(image, mean, side, roll);
}

async function landmarksInSquare(
  image: RgbImage,
  centre: Point,
  side: number,
  angle: number,
): Promise<Point[]> {
  const patch = await squarePatch(image, centre, side, angle, LANDMARK_INPUT);
  const tensor = faceapi.tf.tensor3d(patch, [LANDMARK_INPUT, LANDMARK_INPUT, 3], 'int32');
  try {
    const result = await faceapi.nets.faceLandmark68Net.detectLandmarks(tensor);
    const landmarks = Array.isArray(result) ? result[0] : result;
    if (!landmarks) throw new Error('face-api returned no landmarks');
    const k = side / LANDMARK_INPUT;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    return landmarks.positions.map((p): Point => {
      const u = (p.x - LANDMARK_INPUT / 2) * k;
      const v = (p.y - LANDMARK_INPUT / 2) * k;
      return [centre[0] + u * cos - v * sin, centre[1] + u * sin + v * cos];
    });
  } finally {
    tensor.dispose();
  }
}

/** Keeps the higher-scoring of any two detections that overlap by {@link SAME_FACE_IOU}. */
function suppressOverlaps(faces: DetectedFace[]): DetectedFace[] {
  const kept: DetectedFace[] = [];
  for (const f of [...faces].sort((a, b) => b.score - a.score)) {
    if (kept.every((k) => iou(k.box, f.box) < SAME_FACE_IOU)) kept.push(f);
  }
  return kept;
}

function iou(a: FaceBox, b: FaceBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/**
 * A `size`² patch of the square of side `side` centred on `centre` and turned by `angle`
 * (pixel-edge coordinates).
 * Downscaling more than 2× goes through a Lanczos resize first: bilinear sampling alone aliases.
 */
async function squarePatch(
  image: RgbImage,
  centre: Point,
  side: number,
  angle: number,
  size: number,
): Promise<Uint8Array> {
  const shrink = Math.floor(side / size);
  const src = shrink < 2 ? image : await resizeRgb(image, 1 / shrink);
  const kx = src.width / image.width;
  const ky = src.height / image.height;
  // Corners scale per axis; rounding the small image's sides skews the square by < 1 pixel.
  const [nw, sw, se, ne] = rotatedSquare(centre, side, angle).map(([x, y]): Point => [
    x * kx,
    y * ky,
  ]);
  return warpQuadBilinear(src, [nw!, sw!, se!, ne!], size, size);
}
