import sharp from 'sharp';
import type { RgbImage } from '../image/decode.ts';
import { padReflectBlurred } from './pad.ts';
import { warpQuadBilinear, type Point, type Quad } from './warp.ts';

/** The FFHQ crop square of a face: corners NW, SW, SE, NE in photo pixels, and its side. */
export interface FfhqQuad {
  quad: Quad;
  /** Side of the square in photo pixels. */
  qsize: number;
}

/** A face warped onto the square the StyleGAN/pSp models were trained on. */
export interface AlignedFace extends FfhqQuad {
  /** `size`×`size`×3 RGB, row-major (HWC). */
  crop: Uint8Array;
  size: number;
}

/** Output side of the aligned crop, as the DualStyleGAN encoder expects. */
export const ALIGNED_SIZE = 256;

/**
 * The FFHQ crop square from 68 landmarks (iBUG 300-W order, as dlib numbers them). Only the eye
 * centres (36–41, 42–47) and the mouth corners (48, 54) count: the square is oriented by the
 * eye line and the eye-to-mouth line, and sized by whichever distance is larger.
 *
 * @example
 * const { quad, qsize } = ffhqQuad(landmarks); // quad[0] is the top-left corner
 */
export function ffhqQuad(landmarks: readonly Point[]): FfhqQuad {
  if (landmarks.length !== 68) {
    throw new RangeError(`ffhqQuad needs 68 landmarks, got ${landmarks.length}`);
  }
  const eyeLeft = mean(landmarks.slice(36, 42));
  const eyeRight = mean(landmarks.slice(42, 48));
  const eyeAvg = scale(add(eyeLeft, eyeRight), 0.5);
  const eyeToEye = sub(eyeRight, eyeLeft);
  const mouthAvg = scale(add(landmarks[48]!, landmarks[54]!), 0.5);
  const eyeToMouth = sub(mouthAvg, eyeAvg);

  // x: the eye line, tilted by the perpendicular of the eye-to-mouth line so that both count.
  let x: Point = [eyeToEye[0] + eyeToMouth[1], eyeToEye[1] - eyeToMouth[0]];
  x = scale(x, 1 / Math.hypot(...x));
  x = scale(x, Math.max(Math.hypot(...eyeToEye) * 2.0, Math.hypot(...eyeToMouth) * 1.8));
  const y: Point = [-x[1], x[0]];
  const c = add(eyeAvg, scale(eyeToMouth, 0.1));
  const quad: Quad = [sub(sub(c, x), y), add(sub(c, x), y), add(add(c, x), y), sub(add(c, x), y)];
  return { quad, qsize: Math.hypot(...x) * 2 };
}

/**
 * Aligns a face the way the reference DualStyleGAN/pSp code does (FFHQ's `align_face`): shrink
 * the photo when the face is much larger than the output (Lanczos), crop around the quad with a
 * border, pad by reflection with a blur toward the median colour where the quad leaves the
 * photo, then warp the quad onto a `size`² square with Pillow's bilinear QUAD transform.
 * `quad` and `qsize` in the result are in the photo's coordinates.
 *
 * @example
 * const { crop } = await alignFace(photo, landmarks); // 256×256×3 RGB
 */
export async function alignFace(
  image: RgbImage,
  landmarks: readonly Point[],
  size: number = ALIGNED_SIZE,
): Promise<AlignedFace> {
  const found = ffhqQuad(landmarks);
  let img = image;
  let quad: Point[] = [...found.quad];
  let qsize = found.qsize;

  const shrink = Math.floor((qsize / size) * 0.5);
  if (shrink > 1) {
    const w = Math.round(img.width / shrink);
    const h = Math.round(img.height / shrink);
    img = await resizeLanczos(img, w, h);
    quad = quad.map((p) => scale(p, 1 / shrink));
    qsize /= shrink;
  }

  const border = Math.max(roundHalfEven(qsize * 0.1), 3);
  const [minX, minY, maxX, maxY] = bounds(quad);
  const crop = [
    Math.max(minX - border, 0),
    Math.max(minY - border, 0),
    Math.min(maxX + border, img.width),
    Math.min(maxY + border, img.height),
  ] as const;
  if (crop[2] - crop[0] < img.width || crop[3] - crop[1] < img.height) {
    img = cropImage(img, crop[0], crop[1], crop[2], crop[3]);
    quad = quad.map((p) => sub(p, [crop[0], crop[1]]));
  }

  const [qx0, qy0, qx1, qy1] = bounds(quad);
  let pad = [
    Math.max(-qx0 + border, 0),
    Math.max(-qy0 + border, 0),
    Math.max(qx1 - img.width + border, 0),
    Math.max(qy1 - img.height + border, 0),
  ] as const;
  if (Math.max(...pad) > border - 4) {
    const least = roundHalfEven(qsize * 0.3);
    pad = [
      Math.max(pad[0], least),
      Math.max(pad[1], least),
      Math.max(pad[2], least),
      Math.max(pad[3], least),
    ];
    img = await padReflectBlurred(img, pad, qsize);
    quad = quad.map((p) => add(p, [pad[0], pad[1]]));
  }

  // Landmarks are pixel centres; Pillow's QUAD takes pixel edges.
  const pilQuad = quad.map((p) => add(p, [0.5, 0.5])) as unknown as Quad;
  return {
    crop: warpQuadBilinear(img, pilQuad, size, size),
    size,
    quad: found.quad,
    qsize: found.qsize,
  };
}

/** Roll of the eye line (landmarks 36–41 and 42–47), radians clockwise on screen. */
export function eyeLineAngle(points: readonly Point[]): number {
  const mean = (from: number): Point => {
    const eye = points.slice(from, from + 6);
    return [eye.reduce((s, p) => s + p[0], 0) / 6, eye.reduce((s, p) => s + p[1], 0) / 6];
  };
  const [lx, ly] = mean(36);
  const [rx, ry] = mean(42);
  return Math.atan2(ry - ly, rx - lx);
}

/** Integer bounding box of points: floor of the minimum, ceil of the maximum. */
function bounds(points: readonly Point[]): [number, number, number, number] {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return [
    Math.floor(Math.min(...xs)),
    Math.floor(Math.min(...ys)),
    Math.ceil(Math.max(...xs)),
    Math.ceil(Math.max(...ys)),
  ];
}

function cropImage(img: RgbImage, x0: number, y0: number, x1: number, y1: number): RgbImage {
  const width = x1 - x0;
  const height = y1 - y0;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const start = ((y0 + y) * img.width + x0) * 3;
    data.set(img.data.subarray(start, start + width * 3), y * width * 3);
  }
  return { data, width, height };
}

async function resizeLanczos(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}

/** `np.rint`: ties to even, which the reference's border and pad sizes depend on. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function mean(points: readonly Point[]): Point {
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  return [sx / points.length, sy / points.length];
}

function add(a: Point, b: Point): Point {
  return [a[0] + b[0], a[1] + b[1]];
}

function sub(a: Point, b: Point): Point {
  return [a[0] - b[0], a[1] - b[1]];
}

function scale(a: Point, k: number): Point {
  return [a[0] * k, a[1] * k];
}
