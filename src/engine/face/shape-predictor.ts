import type { RgbImage } from '../image/decode.ts';
import type { Point } from './warp.ts';

/**
 * dlib's `shape_predictor` (Kazemi & Sullivan's ensemble of regression trees), read from its
 * serialized `.dat` file and run the way dlib runs it, so that landmarks match those the
 * reference alignment was computed from. The file is dlib's `shape_predictor_68_face_landmarks.dat`
 * (Debian ships it in `libdlib-data`).
 */
export interface ShapePredictor {
  /** Number of landmarks (68 for the face model). */
  readonly numParts: number;
  /** The mean shape in box-normalised coordinates (0..1 spans the box), x and y interleaved. */
  readonly initialShape: Float32Array;
  /** Landmarks of the face in `box`, rounded to whole pixels as dlib returns them. */
  predict(image: RgbImage, box: Box): Point[];
}

/** An inclusive pixel rectangle, as dlib's `rectangle` (right and bottom are inside it). */
export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** One cascade of regression trees and its feature pixels: what a predictor runs. */
export interface Cascade {
  /** Per tree: `numSplits` × (idx1, idx2), then thresholds, then leaves × numParts·2. */
  splitIdx: Uint16Array;
  thresholds: Float32Array;
  leaves: Float32Array;
  numTrees: number;
  numSplits: number;
  anchors: Uint16Array;
  /** Offsets of the feature pixels from their anchors, in the mean shape's frame. */
  deltas: Float32Array;
}

/** A parsed model: the mean shape and the cascades (kept as is by `shape-model-cache.ts`). */
export interface ShapeModel {
  initialShape: Float32Array;
  cascades: Cascade[];
}

/**
 * Parses a dlib shape predictor file (version 1 of dlib's serialization).
 *
 * @example
 * const sp = parseShapePredictor(fs.readFileSync('/usr/share/dlib/shape_predictor_68_face_landmarks.dat'));
 * const landmarks = sp.predict(photo, { left: 179, top: 83, right: 266, bottom: 170 });
 */
export function parseShapePredictor(bytes: Uint8Array): ShapePredictor {
  return shapePredictor(parseShapeModel(bytes));
}

/** The predictor running `model`. */
export function shapePredictor({ initialShape, cascades }: ShapeModel): ShapePredictor {
  return {
    numParts: initialShape.length / 2,
    initialShape,
    predict: (image, box) => predict(image, box, initialShape, cascades),
  };
}

/** Parses a dlib shape predictor file into its arrays (slow: ≈ 1.5 s for the face model). */
export function parseShapeModel(bytes: Uint8Array): ShapeModel {
  const r = new DlibReader(bytes);
  const version = r.int();
  if (version !== 1) throw new Error(`unsupported dlib shape_predictor version ${version}`);
  const initialShape = Float32Array.from(r.floatMatrix());
  const shapeLen = initialShape.length;

  const numCascades = r.int();
  const forests: Omit<Cascade, 'anchors' | 'deltas'>[] = [];
  for (let c = 0; c < numCascades; c++) {
    const numTrees = r.int();
    let splitIdx = new Uint16Array(0);
    let thresholds = new Float32Array(0);
    let leaves = new Float32Array(0);
    let numSplits = 0;
    for (let t = 0; t < numTrees; t++) {
      const n = r.int();
      if (t === 0) {
        numSplits = n;
        splitIdx = new Uint16Array(numTrees * n * 2);
        thresholds = new Float32Array(numTrees * n);
        leaves = new Float32Array(numTrees * (n + 1) * shapeLen);
      } else if (n !== numSplits) {
        throw new Error('dlib shape_predictor: trees of different depths');
      }
      for (let s = 0; s < n; s++) {
        splitIdx[(t * n + s) * 2] = r.int();
        splitIdx[(t * n + s) * 2 + 1] = r.int();
        thresholds[t * n + s] = r.float();
      }
      const numLeaves = r.int();
      if (numLeaves !== n + 1) throw new Error('dlib shape_predictor: tree is not complete');
      for (let l = 0; l < numLeaves; l++) {
        if (Math.abs(r.int()) * Math.abs(r.int()) !== shapeLen) {
          throw new Error('dlib shape_predictor: bad leaf size');
        }
        r.floatsInto(leaves, (t * numLeaves + l) * shapeLen, shapeLen);
      }
    }
    forests.push({ splitIdx, thresholds, leaves, numTrees, numSplits });
  }
  const anchors = r.list(() => Uint16Array.from(r.list(() => r.int())));
  const deltas = r.list(() => Float32Array.from(r.list(() => [r.float(), r.float()]).flat()));
  if (anchors.length !== numCascades || deltas.length !== numCascades) {
    throw new Error('dlib shape_predictor: cascade tables disagree');
  }
  const cascades = forests.map((f, i) => ({ ...f, anchors: anchors[i]!, deltas: deltas[i]! }));
  return { initialShape, cascades };
}

function predict(
  image: RgbImage,
  box: Box,
  initialShape: Float32Array,
  cascades: readonly Cascade[],
): Point[] {
  const shape = Float32Array.from(initialShape);
  const sx = box.right - box.left;
  const sy = box.bottom - box.top;
  for (const c of cascades) {
    const [a, b] = similarity(initialShape, shape);
    const n = c.anchors.length;
    const features = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const dx = c.deltas[i * 2]!;
      const dy = c.deltas[i * 2 + 1]!;
      const k = c.anchors[i]! * 2;
      // dlib does this in float: the rotation-and-scale part of the similarity, then the anchor.
      const u = Math.fround(Math.fround(Math.fround(a * dx) - Math.fround(b * dy)) + shape[k]!);
      const v = Math.fround(Math.fround(Math.fround(b * dx) + Math.fround(a * dy)) + shape[k + 1]!);
      const x = Math.floor(box.left + u * sx + 0.5);
      const y = Math.floor(box.top + v * sy + 0.5);
      features[i] = intensity(image, x, y);
    }
    const { numSplits, leaves, splitIdx, thresholds } = c;
    const len = shape.length;
    for (let t = 0; t < c.numTrees; t++) {
      let node = 0;
      while (node < numSplits) {
        const s = t * numSplits + node;
        const diff = features[splitIdx[s * 2]!]! - features[splitIdx[s * 2 + 1]!]!;
        node = diff > thresholds[s]! ? 2 * node + 1 : 2 * node + 2;
      }
      const leaf = (t * (numSplits + 1) + node - numSplits) * len;
      for (let j = 0; j < len; j++) shape[j] = shape[j]! + leaves[leaf + j]!;
    }
  }
  const out: Point[] = [];
  for (let i = 0; i < shape.length; i += 2) {
    out.push([
      Math.floor(box.left + shape[i]! * sx + 0.5),
      Math.floor(box.top + shape[i + 1]! * sy + 0.5),
    ]);
  }
  return out;
}

/** dlib's grey level of an RGB pixel: the truncated mean; 0 outside the image. */
function intensity(image: RgbImage, x: number, y: number): number {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return 0;
  const o = (y * image.width + x) * 3;
  return Math.floor((image.data[o]! + image.data[o + 1]! + image.data[o + 2]!) / 3);
}

/**
 * The least-squares similarity taking `from` to `to` (Umeyama's, which for two point sets of
 * the same orientation reduces to this closed form): returns `[a, b]` of the matrix
 * `[[a, −b], [b, a]]`, rounded to float as dlib casts it.
 */
function similarity(from: Float32Array, to: Float32Array): [number, number] {
  const n = from.length / 2;
  let fx = 0;
  let fy = 0;
  let tx = 0;
  let ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[2 * i]!;
    fy += from[2 * i + 1]!;
    tx += to[2 * i]!;
    ty += to[2 * i + 1]!;
  }
  fx /= n;
  fy /= n;
  tx /= n;
  ty /= n;
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const ax = from[2 * i]! - fx;
    const ay = from[2 * i + 1]! - fy;
    const bx = to[2 * i]! - tx;
    const by = to[2 * i + 1]! - ty;
    dot += ax * bx + ay * by;
    cross += ax * by - ay * bx;
    norm += ax * ax + ay * ay;
  }
  return norm === 0 ? [1, 0] : [Math.fround(dot / norm), Math.fround(cross / norm)];
}

/** dlib's portable serialization: variable-length integers, floats as mantissa·2^exponent. */
class DlibReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  int(): number {
    const control = this.byte();
    const size = control & 0x0f;
    if (size === 0 || size > 8) throw new Error(`dlib file: bad integer at byte ${this.at - 1}`);
    let value = 0;
    for (let i = 0; i < size; i++) value += this.byte() * 2 ** (8 * i);
    return control & 0x80 ? -value : value;
  }

  float(): number {
    const mantissa = this.int();
    const exponent = this.int();
    // Exponents from 32000 up encode infinities and NaN, which a trained model never holds.
    if (exponent >= 32000) throw new Error('dlib file: non-finite number');
    return Math.fround(mantissa * 2 ** exponent);
  }

  /**
   * `count` floats into `out` from `offset`: {@link DlibReader.float} unrolled, since the
   * 16 million leaf values of the face model make up nearly all of the file.
   */
  floatsInto(out: Float32Array, offset: number, count: number): void {
    const b = this.bytes;
    let at = this.at;
    for (let n = 0; n < count; n++) {
      // Mantissa: one control byte (size, sign in 0x80), then little-endian magnitude bytes.
      let control = b[at++]!;
      let size = control & 0x0f;
      let mantissa = 0;
      for (let i = 0, m = 1; i < size; i++, m *= 256) mantissa += b[at++]! * m;
      if (control & 0x80) mantissa = -mantissa;
      control = b[at++]!;
      size = control & 0x0f;
      let exponent = 0;
      for (let i = 0, m = 1; i < size; i++, m *= 256) exponent += b[at++]! * m;
      if (control & 0x80) exponent = -exponent;
      if (!(at <= b.length) || exponent >= 32000) {
        throw new Error(`dlib file: bad number before byte ${at}`);
      }
      out[offset + n] = mantissa * 2 ** exponent;
    }
    this.at = at;
  }

  /** A column vector `matrix<float,0,1>`; newer files store the sizes negated. */
  floatMatrix(): number[] {
    const rows = Math.abs(this.int());
    const cols = Math.abs(this.int());
    return Array.from({ length: rows * cols }, () => this.float());
  }

  list<T>(item: () => T): T[] {
    return Array.from({ length: this.int() }, item);
  }

  private byte(): number {
    if (this.at >= this.bytes.length) throw new Error('dlib file: truncated');
    return this.bytes[this.at++]!;
  }
}
