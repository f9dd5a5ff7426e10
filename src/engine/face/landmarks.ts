import fs from 'node:fs/promises';
import type { RgbImage } from '../image/decode.ts';
import { eyeLineAngle } from './align.ts';
import {
  defaultShapeCacheDir,
  readShapeCache,
  ShapeCacheError,
  sourceKey,
  writeShapeCache,
} from './shape-model-cache.ts';
import {
  parseShapeModel,
  shapePredictor,
  type Box,
  type ShapeModel,
  type ShapePredictor,
} from './shape-predictor.ts';
import { rotatedSquare, warpQuadBilinear, type Point } from './warp.ts';

/**
 * Where Debian's `libdlib-data` puts dlib's 68-point model, the one the reference alignment
 * used; `PASTICHE_DLIB_LANDMARKS` overrides it.
 */
export const DEFAULT_LANDMARK_MODEL =
  process.env.PASTICHE_DLIB_LANDMARKS ?? '/usr/share/dlib/shape_predictor_68_face_landmarks.dat';

const loaded = new Map<string, Promise<ShapePredictor | undefined>>();

/**
 * Loads a dlib shape predictor once per path (65 MB for the face model), or `undefined` when the
 * file is absent, so callers can fall back to face-api's landmarks. Parsing the face model takes
 * ≈ 1.5 s, so the parsed arrays are kept in `cacheDir` (see shape-model-cache.ts; `''` keeps
 * none) and read from there while the file is unchanged.
 */
export function loadShapePredictor(
  file: string,
  cacheDir: string = defaultShapeCacheDir(),
): Promise<ShapePredictor | undefined> {
  let p = loaded.get(file);
  if (!p) {
    p = loadShapeModel(file, cacheDir).then((model) => model && shapePredictor(model));
    p.catch(() => loaded.delete(file));
    loaded.set(file, p);
  }
  return p;
}

/** {@link loadShapePredictor}'s model, read from the cache or parsed, not remembered. */
export async function loadShapeModel(
  file: string,
  cacheDir: string,
): Promise<ShapeModel | undefined> {
  let source: string;
  try {
    source = await sourceKey(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (cacheDir) {
    try {
      return await readShapeCache(cacheDir, file, source);
    } catch (e) {
      if (!(e instanceof ShapeCacheError)) throw e;
    }
  }
  const model = parseShapeModel(await fs.readFile(file));
  // A cache that cannot be written (a read-only temp dir) only costs this parse next time too.
  if (cacheDir) await writeShapeCache(cacheDir, file, source, model).catch(() => undefined);
  return model;
}

/*
 * dlib's predictor starts from its mean shape placed in the box dlib's HOG detector drew. We
 * have no such box, so one is fitted to a first guess of the landmarks (the mean shape's box,
 * scaled and shifted as dlib's boxes sit relative to it: measured on 52 faces of face-api's
 * demo photos, flipped and rescaled, none of them a test fixture). dlib's boxes come in
 * steps of 1.2× in size, so any one box is off by up to ±9%; averaging predictions over a few
 * offsets stands in for that spread. Nine placements (3×3 shifts) match the 27 of shifts × three
 * sizes on the fixtures (worst quad 1.42% of its size vs 1.53%, mean 0.75% vs 0.74%) in a third
 * of the time; one placement is worse (mean 0.92%). `npm run bench:face` measures them.
 */
const BOX_SCALE = 1.04;
const BOX_DROP = 0.02;
/** Box placements averaged over: every scale × every x shift × every y shift. */
export interface Jitter {
  scales: readonly number[];
  shifts: readonly number[];
}
export const JITTER: Jitter = { scales: [1], shifts: [-0.03, 0, 0.03] };
/** Faces turned further than this are predicted on an upright copy (dlib's trees are not). */
const MAX_ROLL = (15 * Math.PI) / 180;
/** Faces smaller than this (box side) are predicted on an enlarged copy: dlib rounds to pixels. */
const MIN_BOX_SIDE = 120;
const MAX_ZOOM = 4;

/**
 * Refines a first guess of the 68 landmarks (face-api's) into dlib's: the landmarks the
 * reference alignment was computed from, so crops match the reference closely. Coordinates are
 * pixel centres, as dlib's are.
 *
 * @example
 * const sp = await loadShapePredictor(DEFAULT_LANDMARK_MODEL);
 * const landmarks = sp ? refineLandmarks(photo, sp, faceApiLandmarks) : faceApiLandmarks;
 */
export function refineLandmarks(
  image: RgbImage,
  sp: ShapePredictor,
  guess: readonly Point[],
  jitter: Jitter = JITTER,
): Point[] {
  const fit = fitMeanShape(sp, guess);
  const roll = eyeLineAngle(guess);
  const zoom = Math.min(MAX_ZOOM, Math.max(1, MIN_BOX_SIDE / fit.side));
  const angle = Math.abs(roll) > MAX_ROLL ? roll : 0;
  const frame =
    zoom === 1 && angle === 0 ? identityFrame(image) : turnedFrame(image, fit, zoom, angle);

  const first = sp.predict(
    frame.image,
    boxAround(frame.toFrame(fit.centre), fit.side * frame.zoom, 1, 0, 0),
  );
  const refit = fitMeanShape(sp, first);
  const sum = new Float64Array(first.length * 2);
  let n = 0;
  for (const scale of jitter.scales) {
    for (const dx of jitter.shifts) {
      for (const dy of jitter.shifts) {
        const points = sp.predict(frame.image, boxAround(refit.centre, refit.side, scale, dx, dy));
        points.forEach(([x, y], i) => {
          sum[2 * i] = sum[2 * i]! + x;
          sum[2 * i + 1] = sum[2 * i + 1]! + y;
        });
        n++;
      }
    }
  }
  return first.map((_, i) => frame.toPhoto([sum[2 * i]! / n, sum[2 * i + 1]! / n]));
}

interface MeanShapeFit {
  /** Centre of the fitted box, pixel-centre coordinates. */
  centre: Point;
  side: number;
}

/** The box in which dlib's mean shape best matches `points` (least squares, no rotation). */
function fitMeanShape(sp: ShapePredictor, points: readonly Point[]): MeanShapeFit {
  const m = sp.initialShape;
  const n = points.length;
  let mx = 0;
  let my = 0;
  let px = 0;
  let py = 0;
  for (let i = 0; i < n; i++) {
    mx += m[2 * i]!;
    my += m[2 * i + 1]!;
    px += points[i]![0];
    py += points[i]![1];
  }
  [mx, my, px, py] = [mx / n, my / n, px / n, py / n];
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const ax = m[2 * i]! - mx;
    const ay = m[2 * i + 1]! - my;
    num += ax * (points[i]![0] - px) + ay * (points[i]![1] - py);
    den += ax * ax + ay * ay;
  }
  const side = num / den;
  return { centre: [px + (0.5 - mx) * side, py + (0.5 - my) * side], side };
}

/** A dlib box around a fitted centre, placed as dlib's detector would, then jittered. */
function boxAround(centre: Point, fitSide: number, scale: number, dx: number, dy: number): Box {
  const side = Math.round(fitSide * BOX_SCALE * scale);
  const left = Math.round(centre[0] + dx * fitSide - side / 2);
  const top = Math.round(centre[1] + (BOX_DROP + dy) * fitSide - side / 2);
  return { left, top, right: left + side, bottom: top + side };
}

/** Where the predictor runs: the photo itself, or an upright and/or enlarged copy of the face. */
interface Frame {
  image: RgbImage;
  zoom: number;
  toFrame(p: Point): Point;
  toPhoto(p: Point): Point;
}

function identityFrame(image: RgbImage): Frame {
  return { image, zoom: 1, toFrame: (p) => p, toPhoto: (p) => p };
}

/**
 * A square copy around the face, turned by `-angle` and enlarged by `zoom`. Pixel `(i, j)` of
 * the copy shows photo point `c + R(angle)·((i, j) + ½ − size/2) / zoom` (pixel centres).
 */
function turnedFrame(image: RgbImage, fit: MeanShapeFit, zoom: number, angle: number): Frame {
  const size = Math.ceil(fit.side * 2.5 * zoom);
  const c = fit.centre;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const half = size / 2 - 0.5;
  const quad = rotatedSquare([c[0] + 0.5, c[1] + 0.5], size / zoom, angle);
  return {
    image: { data: warpQuadBilinear(image, quad, size, size), width: size, height: size },
    zoom,
    toPhoto: ([i, j]) => {
      const u = (i - half) / zoom;
      const v = (j - half) / zoom;
      return [c[0] + u * cos - v * sin, c[1] + u * sin + v * cos];
    },
    toFrame: ([x, y]) => {
      const u = x - c[0];
      const v = y - c[1];
      return [half + (u * cos + v * sin) * zoom, half + (-u * sin + v * cos) * zoom];
    },
  };
}
