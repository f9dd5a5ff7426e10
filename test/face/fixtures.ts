import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { RgbImage } from '../../src/engine/image/decode.ts';
import type { Point, Quad } from '../../src/engine/face/warp.ts';

export const ALIGNMENT_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'alignment',
);

/** One photo of `alignment.json`: what the reference (dlib + FFHQ recipe) made of it. */
export interface AlignmentCase {
  photo: string;
  width: number;
  height: number;
  /** Faces dlib found. */
  faces: number;
  quad_in_photo?: number[][];
  qsize?: number;
  all_faces_quads?: number[][][];
  landmarks68?: number[][];
  all_faces_landmarks68?: number[][][];
  /** Where dlib found no face: the quad it would have found, carried over from the upright photo. */
  expected_quad_in_photo?: number[][];
  expected_qsize?: number;
  aligned?: string;
}

export const CASES: AlignmentCase[] = JSON.parse(
  fs.readFileSync(path.join(ALIGNMENT_DIR, 'alignment.json'), 'utf8'),
).cases;

export function fixtureCase(photo: string): AlignmentCase {
  const c = CASES.find((x) => x.photo === photo);
  if (!c) throw new Error(`no alignment fixture ${photo}`);
  return c;
}

/** Decoded as the reference saw it: the file's pixels, no orientation or colour handling. */
export async function loadRgb(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(path.join(ALIGNMENT_DIR, file))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

export function toPoints(rows: readonly number[][]): Point[] {
  return rows.map((r): Point => [r[0]!, r[1]!]);
}

/** Largest corner distance between two quads, in percent of `qsize`. */
export function quadErrorPercent(
  ours: Quad,
  reference: readonly number[][],
  qsize: number,
): number {
  const worst = Math.max(
    ...ours.map((p, i) => Math.hypot(p[0] - reference[i]![0]!, p[1] - reference[i]![1]!)),
  );
  return (100 * worst) / qsize;
}

/** Mean absolute difference of two equally sized byte arrays, in grey levels (0..255). */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`sizes differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}
