import sharp from 'sharp';
import type { RgbImage } from '../image/decode.ts';

/** Padding in pixels on each side: left, top, right, bottom. */
export type Padding = readonly [number, number, number, number];

/**
 * The FFHQ recipe's padding, for a quad that leaves the photo: mirror the image outward
 * (numpy's `reflect`, edge pixel not repeated), blur toward the edges with a Gaussian of
 * σ = 0.02·qsize, then fade to the median colour, so the aligned crop shows a soft backdrop
 * instead of a black wedge or an obvious mirror image.
 *
 * The reference blurs in float64 (scipy); libvips' integer-precision blur is 20× faster than
 * any float path here and differs by at most ~1.5 grey levels, only inside the blended border.
 */
export async function padReflectBlurred(
  img: RgbImage,
  pad: Padding,
  qsize: number,
): Promise<RgbImage> {
  const [pl, pt, pr, pb] = pad;
  const width = img.width + pl + pr;
  const height = img.height + pt + pb;
  const padded = reflectPad(img, pad, 'numpy');
  const blurred = await gaussianBlur({ data: padded, width, height }, qsize * 0.02);

  // The reference's mask is max(mx(x), my(y)): 1 at the outer edge, 0 where the padding meets
  // the photo, negative inside. The blur reaches where 3·mask + 1 > 0, a third of a pad's width
  // into the photo; deeper pixels keep their value, so only this frame is computed.
  const mx = Float64Array.from({ length: width }, (_, x) => edgeMask(x, width, pl, pr));
  // Columns [innerStart, innerEnd) lie deeper than the blur reaches, except in the top and
  // bottom bands.
  let innerStart = 0;
  while (innerStart < width && mx[innerStart]! > -1 / 3) innerStart++;
  let innerEnd = width;
  while (innerEnd > innerStart && mx[innerEnd - 1]! > -1 / 3) innerEnd--;
  const segments = (y: number): number[] =>
    edgeMask(y, height, pt, pb) > -1 / 3 ? [0, width] : [0, innerStart, innerEnd, width];

  const mixed = new Float32Array(padded);
  for (let y = 0; y < height; y++) {
    const my = edgeMask(y, height, pt, pb);
    const seg = segments(y);
    for (let s = 0; s < seg.length; s += 2) {
      for (let x = seg[s]!, i = (y * width + x) * 3; x < seg[s + 1]!; x++, i += 3) {
        const wb = clamp01(Math.max(mx[x]!, my) * 3 + 1);
        mixed[i] = mixed[i]! + (blurred[i]! - mixed[i]!) * wb;
        mixed[i + 1] = mixed[i + 1]! + (blurred[i + 1]! - mixed[i + 1]!) * wb;
        mixed[i + 2] = mixed[i + 2]! + (blurred[i + 2]! - mixed[i + 2]!) * wb;
      }
    }
  }
  const [mr, mg, mb] = channelMedians(mixed) as [number, number, number];
  const data = padded;
  for (let y = 0; y < height; y++) {
    const my = edgeMask(y, height, pt, pb);
    const seg = segments(y);
    for (let s = 0; s < seg.length; s += 2) {
      for (let x = seg[s]!, i = (y * width + x) * 3; x < seg[s + 1]!; x++, i += 3) {
        const wm = clamp01(Math.max(mx[x]!, my));
        data[i] = roundHalfEvenToByte(mixed[i]! + (mr - mixed[i]!) * wm);
        data[i + 1] = roundHalfEvenToByte(mixed[i + 1]! + (mg - mixed[i + 1]!) * wm);
        data[i + 2] = roundHalfEvenToByte(mixed[i + 2]! + (mb - mixed[i + 2]!) * wm);
      }
    }
  }
  return { data, width, height };
}

/** `1 − min(i / before, (n − 1 − i) / after)`: one axis of the reference's padding mask. */
function edgeMask(i: number, n: number, before: number, after: number): number {
  return 1 - Math.min(i / before, (n - 1 - i) / after);
}

/**
 * Mirrors `img` outward by `pad`. `numpy` mode reflects about the edge pixel
 * (`d c b | a b c d`, numpy's `reflect`); `scipy` mode repeats it (`c b a | a b c d`, scipy's
 * `reflect`). Pads wider than the image keep bouncing, as both libraries do.
 */
function reflectPad(img: RgbImage, pad: Padding, mode: 'numpy' | 'scipy'): Uint8Array {
  const [pl, pt, pr, pb] = pad;
  const { data, width: w, height: h } = img;
  const outW = w + pl + pr;
  const out = new Uint8Array(outW * (h + pt + pb) * 3);
  const edgeCols = [...Array(pl).keys(), ...Array.from({ length: pr }, (_, i) => pl + w + i)];
  const srcCols = edgeCols.map((x) => mirror(x - pl, w, mode) * 3);
  for (let y = 0; y < h + pt + pb; y++) {
    const srcRow = mirror(y - pt, h, mode) * w * 3;
    const dstRow = y * outW * 3;
    out.set(data.subarray(srcRow, srcRow + w * 3), dstRow + pl * 3);
    for (let k = 0; k < edgeCols.length; k++) {
      const s = srcRow + srcCols[k]!;
      const d = dstRow + edgeCols[k]! * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return out;
}

function mirror(i: number, n: number, mode: 'numpy' | 'scipy'): number {
  if (n === 1) return 0;
  if (mode === 'numpy') {
    const period = 2 * (n - 1);
    const j = ((i % period) + period) % period;
    return j < n ? j : period - j;
  }
  const period = 2 * n;
  const j = ((i % period) + period) % period;
  return j < n ? j : period - 1 - j;
}

/**
 * Gaussian blur with scipy's `reflect` border. libvips would extend the border by copying the
 * edge pixel, so the image is mirrored by the kernel radius first and cropped back after.
 */
async function gaussianBlur(img: RgbImage, sigma: number): Promise<Uint8Array> {
  const r = Math.ceil(sigma * 4) + 1;
  const ext = reflectPad(img, [r, r, r, r], 'scipy');
  return await sharp(ext, {
    raw: { width: img.width + 2 * r, height: img.height + 2 * r, channels: 3 },
  })
    .blur({ sigma, minAmplitude: 0.001 })
    .extract({ left: r, top: r, width: img.width, height: img.height })
    .raw()
    .toBuffer();
}

/**
 * `np.median` over all pixels, per channel (the mean of the middle two for an even count).
 * Values lie in [0, 255]: a histogram of their integer parts finds the bucket holding the
 * middle, and only that bucket is sorted out exactly.
 */
function channelMedians(rgb: Float32Array): number[] {
  const n = rgb.length / 3;
  const counts = new Uint32Array(3 * 256);
  for (let i = 0; i < rgb.length; i += 3) {
    counts[bucket(rgb[i]!)]!++;
    counts[256 + bucket(rgb[i + 1]!)]!++;
    counts[512 + bucket(rgb[i + 2]!)]!++;
  }
  const kth = (c: number, k: number): number => {
    let b = 0;
    let below = 0;
    while (below + counts[c * 256 + b]! <= k) below += counts[c * 256 + b++]!;
    const inBucket = new Float32Array(counts[c * 256 + b]!);
    let j = 0;
    for (let i = c; i < rgb.length; i += 3) if (bucket(rgb[i]!) === b) inBucket[j++] = rgb[i]!;
    return select(inBucket, k - below);
  };
  return [0, 1, 2].map((c) => {
    const upper = kth(c, n >> 1);
    return n % 2 === 1 ? upper : (kth(c, (n >> 1) - 1) + upper) / 2;
  });
}

function bucket(v: number): number {
  return v < 1 ? 0 : v >= 255 ? 255 : v | 0;
}

/** Quickselect (Hoare): reorders `a` so that `a[k]` is the k-th smallest; returns it. */
function select(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k]!;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** `np.uint8(np.clip(np.rint(v), 0, 255))`: ties go to the even integer. */
function roundHalfEvenToByte(v: number): number {
  let r = Math.round(v);
  if (r - v === 0.5 && r % 2 !== 0) r -= 1;
  return r < 0 ? 0 : r > 255 ? 255 : r;
}
