/**
 * Stylized faces back into the whole photo: each square result is warped through the inverse of
 * its alignment quad and blended in under a feathered mask, so the rest of the photo is left
 * exactly as it was.
 */
import type { Point } from '../face/warp.ts';
import type { RgbImage } from './decode.ts';
import { resizeRgb } from './resize.ts';

/** One stylized face and where its aligned square lies in the photo. */
export interface PastedFace {
  /** The generator's square output (any side: the quad maps the whole square). */
  image: RgbImage;
  /** The aligned square's corners NW, SW, SE, NE in photo pixels (pixel centres), `FaceInfo.quad`. */
  quad: readonly (readonly number[])[];
}

export interface PasteOptions {
  /** The output's longer side at most; larger photos are scaled down first. Default 2048. */
  maxSide?: number;
  /** Width of the soft edge, as a fraction of the mask's radius (0 = hard edge). Default 0.35. */
  feather?: number;
}

export const DEFAULT_PASTE_MAX_SIDE = 2048;
const DEFAULT_FEATHER = 0.35;

/**
 * The mask, in the aligned square's own coordinates (0..1): an ellipse around face and hair.
 * Alignment puts every face in the same place of the square (FFHQ's recipe: eyes at ~0.4 of the
 * height, mouth at ~0.7), so one shape in square coordinates fits every face and turns with it;
 * it ends inside the square, so the stylized background in its corners never shows and no edge
 * of the square can make a seam.
 */
const MASK = { cx: 0.5, cy: 0.52, rx: 0.4, ry: 0.46 } as const;

/**
 * Pastes each face into (a copy of) the photo, scaled down to `maxSide` first if larger.
 * Pixels outside every face's mask are the photo's own, byte for byte.
 *
 * @example
 * const whole = await pasteFaces(photo, [{ image: result, quad: face.quad }]);
 */
export async function pasteFaces(
  photo: RgbImage,
  faces: readonly PastedFace[],
  options: PasteOptions = {},
): Promise<RgbImage> {
  const maxSide = options.maxSide ?? DEFAULT_PASTE_MAX_SIDE;
  const feather = Math.min(1, Math.max(0, options.feather ?? DEFAULT_FEATHER));
  const scale = Math.min(1, maxSide / Math.max(photo.width, photo.height));
  const out = scale < 1 ? await resizeRgb(photo, scale) : copy(photo);
  const kx = out.width / photo.width;
  const ky = out.height / photo.height;
  for (const face of faces) {
    // Quads are on pixel centres; the warp works on pixel edges (pixel i spans [i, i+1)).
    const corners = face.quad.map(([x, y]): Point => [(x! + 0.5) * kx, (y! + 0.5) * ky]);
    pasteOne(out, face.image, corners, feather);
  }
  return out;
}

/** Blends `src` into `dst` in place through the inverse of the affine map square → quad. */
function pasteOne(dst: RgbImage, src: RgbImage, quad: readonly Point[], feather: number): void {
  if (quad.length !== 4) throw new RangeError(`a quad has 4 corners, got ${quad.length}`);
  const [nw, sw, se, ne] = quad as [Point, Point, Point, Point];
  // The FFHQ quad is a square (a parallelogram in general): NW, NE and SW fix the affine map
  // from the unit square, (u, v) → nw + u·ex + v·ey.
  const ex: Point = [ne[0] - nw[0], ne[1] - nw[1]];
  const ey: Point = [sw[0] - nw[0], sw[1] - nw[1]];
  const det = ex[0] * ey[1] - ex[1] * ey[0];
  if (!(Math.abs(det) > 1e-9)) return;
  const xs = [nw[0], sw[0], se[0], ne[0]];
  const ys = [nw[1], sw[1], se[1], ne[1]];
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(dst.width, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(dst.height, Math.ceil(Math.max(...ys)));
  const inner = 1 - feather;
  const pixel = [0, 0, 0];
  for (let y = y0; y < y1; y++) {
    const py = y + 0.5 - nw[1];
    for (let x = x0; x < x1; x++) {
      const px = x + 0.5 - nw[0];
      const u = (px * ey[1] - py * ey[0]) / det;
      const v = (ex[0] * py - ex[1] * px) / det;
      const du = (u - MASK.cx) / MASK.rx;
      const dv = (v - MASK.cy) / MASK.ry;
      const r = Math.sqrt(du * du + dv * dv);
      if (r >= 1) continue;
      const alpha = r <= inner ? 1 : smoothstep((1 - r) / feather);
      sample(src, u * src.width, v * src.height, pixel);
      const o = (y * dst.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        dst.data[o + c] = Math.round(dst.data[o + c]! + (pixel[c]! - dst.data[o + c]!) * alpha);
      }
    }
  }
}

/** 0 at 0, 1 at 1, flat at both ends: an edge without a visible line where it starts. */
function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

/** Bilinear sample at `(sx, sy)` in pixel-edge coordinates; neighbours past the edge clamp. */
function sample(src: RgbImage, sx: number, sy: number, out: number[]): void {
  const { data, width: w, height: h } = src;
  const fx = sx - 0.5;
  const fy = sy - 0.5;
  const xf = Math.floor(fx);
  const yf = Math.floor(fy);
  const dx = fx - xf;
  const dy = fy - yf;
  const xa = clamp(xf, w) * 3;
  const xb = clamp(xf + 1, w) * 3;
  const ra = clamp(yf, h) * w * 3;
  const rb = clamp(yf + 1, h) * w * 3;
  for (let c = 0; c < 3; c++) {
    const top = data[ra + xa + c]! + (data[ra + xb + c]! - data[ra + xa + c]!) * dx;
    const bottom = data[rb + xa + c]! + (data[rb + xb + c]! - data[rb + xa + c]!) * dx;
    out[c] = top + (bottom - top) * dy;
  }
}

function clamp(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

function copy(image: RgbImage): RgbImage {
  return { data: image.data.slice(), width: image.width, height: image.height };
}
