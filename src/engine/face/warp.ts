import type { RgbImage } from '../image/decode.ts';

/** A point in pixel coordinates, `[x, y]`. */
export type Point = readonly [number, number];

/** Four corners in the order PIL's QUAD transform takes them: NW, SW, SE, NE. */
export type Quad = readonly [Point, Point, Point, Point];

/**
 * Warps the quadrilateral `quad` of `src` onto a `width`×`height` RGB image, exactly as
 * Pillow's `Image.transform(size, Image.QUAD, quad, Image.BILINEAR)` does: the output's corners
 * map bilinearly onto the quad's corners (not a homography: straight lines through the middle
 * of a non-parallelogram bend), each output pixel is sampled at its centre, and samples that
 * fall outside `src` are black.
 *
 * The quad is in Pillow's convention, where pixel `i` spans `[i, i+1)`; a quad computed on pixel
 * centres (as landmarks are) needs `+0.5`, as the FFHQ recipe adds.
 *
 * @example
 * const crop = warpQuadBilinear(photo, [[10, 10], [10, 110], [110, 110], [110, 10]], 256, 256);
 */
export function warpQuadBilinear(
  src: RgbImage,
  quad: Quad,
  width: number,
  height: number,
): Uint8Array {
  const [nw, sw, se, ne] = quad;
  // Pillow's coefficients, term for term, so rounding matches to the last bit.
  const as = 1 / width;
  const at = 1 / height;
  const a0 = nw[0];
  const a1 = (ne[0] - nw[0]) * as;
  const a2 = (sw[0] - nw[0]) * at;
  const a3 = (se[0] - sw[0] - ne[0] + nw[0]) * as * at;
  const a4 = nw[1];
  const a5 = (ne[1] - nw[1]) * as;
  const a6 = (sw[1] - nw[1]) * at;
  const a7 = (se[1] - sw[1] - ne[1] + nw[1]) * as * at;

  const out = new Uint8Array(width * height * 3);
  for (let oy = 0; oy < height; oy++) {
    const yin = oy + 0.5;
    for (let ox = 0; ox < width; ox++) {
      const xin = ox + 0.5;
      const sx = a0 + a1 * xin + a2 * yin + a3 * xin * yin;
      const sy = a4 + a5 * xin + a6 * yin + a7 * xin * yin;
      sampleBilinear(src, sx, sy, out, (oy * width + ox) * 3);
    }
  }
  return out;
}

/**
 * Pillow's `bilinear_filter32RGB`: `(sx, sy)` in pixel-edge coordinates; outside the image
 * leaves `out` untouched (black); neighbours past the edge clamp; the result is truncated, not
 * rounded, which is what Pillow does.
 */
function sampleBilinear(src: RgbImage, sx: number, sy: number, out: Uint8Array, o: number): void {
  const { data, width: w, height: h } = src;
  if (!(sx >= 0 && sx < w && sy >= 0 && sy < h)) return;
  const fx = sx - 0.5;
  const fy = sy - 0.5;
  const x = Math.floor(fx);
  const y = Math.floor(fy);
  const dx = fx - x;
  const dy = fy - y;
  const x0 = (x < 0 ? 0 : x < w ? x : w - 1) * 3;
  const x1 = (x + 1 < 0 ? 0 : x + 1 < w ? x + 1 : w - 1) * 3;
  const row0 = (y < 0 ? 0 : y < h ? y : h - 1) * w * 3;
  const hasRow1 = y + 1 >= 0 && y + 1 < h;
  const row1 = (y + 1) * w * 3;
  for (let b = 0; b < 3; b++) {
    const p00 = data[row0 + x0 + b]!;
    const p01 = data[row0 + x1 + b]!;
    const v1 = p00 + (p01 - p00) * dx;
    let v2 = v1;
    if (hasRow1) {
      const p10 = data[row1 + x0 + b]!;
      const p11 = data[row1 + x1 + b]!;
      v2 = p10 + (p11 - p10) * dx;
    }
    out[o + b] = v1 + (v2 - v1) * dy;
  }
}

/**
 * The quad of `src` that an axis-aligned square of side `size` centred on `centre`, rotated by
 * `angle` radians (clockwise on screen, since y points down), covers; for cropping an upright
 * face patch with {@link warpQuadBilinear}. Corners in NW, SW, SE, NE order.
 */
export function rotatedSquare(centre: Point, size: number, angle: number): Quad {
  const h = size / 2;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const at = (u: number, v: number): Point => [
    centre[0] + u * c - v * s,
    centre[1] + u * s + v * c,
  ];
  return [at(-h, -h), at(-h, h), at(h, h), at(h, -h)];
}
