import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * A seeded random stream. The same seed gives the same numbers on every platform Node runs on:
 * the generator is integer-only (xoroshiro128+ from `pure-rand`), `Math.sqrt` is exact, and
 * V8's `Math.exp`/`Math.log` are its own fdlibm port rather than the C library's.
 */
export interface Rng {
  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
  /**
   * Fills `out` with N(mean, std²) and returns it. Consumes the stream exactly like
   * `out.length` calls of {@link Rng.normal}, so `fillNormal` and `normal` can be mixed freely.
   */
  fillNormal(out: Float32Array, std?: number, mean?: number): Float32Array;
}

/**
 * Creates a random stream from a seed. Numbers and strings both work; `createRng(1)` and
 * `createRng('1')` are different streams. Derive independent streams by seeding with a
 * label, e.g. `createRng(`${userSeed}/noise`)`.
 */
export function createRng(seed: number | string): Rng {
  const g = xoroshiro128plusFromState(seedState(seed));
  return {
    uniform: () => {
      // Top bits only: xoroshiro128+'s lowest output bits are its weakest.
      const hi = g.next() >>> 5;
      const lo = g.next() >>> 6;
      return (hi * 67108864 + lo) * TWO_POW_M53;
    },
    normal: () => normal(g),
    fillNormal: (out, std = 1, mean = 0) => {
      for (let i = 0; i < out.length; i++) out[i] = mean + std * normal(g);
      return out;
    },
  };
}

const TWO_POW_M32 = 2 ** -32;
const TWO_POW_M53 = 2 ** -53;

/* Normals by the Marsaglia–Tsang ziggurat (128 layers). Box–Muller and the polar method both
 * measured ~30–48 M values/s here (a log per value); the ziggurat needs one 32-bit draw for
 * ~99% of values and reaches ~150 M/s, so the 267 M-parameter demo encoder fills in ~2 s. The
 * layer index comes from the top 7 bits and the value from the other 25 (sign + 24 bits, as
 * many as a float32 mantissa holds), so index and value never share bits (Doornik 2005). */
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const ZIG_M = 2 ** 24;
const kn = new Float64Array(128);
const wn = new Float64Array(128);
const fn = new Float64Array(128);
{
  let dn = ZIG_R;
  let tn = dn;
  const q = ZIG_V / Math.exp(-0.5 * dn * dn);
  kn[0] = Math.floor((dn / q) * ZIG_M);
  kn[1] = 0;
  wn[0] = q / ZIG_M;
  wn[127] = dn / ZIG_M;
  fn[0] = 1;
  fn[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(ZIG_V / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = Math.floor((dn / tn) * ZIG_M);
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / ZIG_M;
  }
}

function normal(g: RandomGenerator): number {
  const r = g.next();
  const iz = r >>> 25;
  const hz = (r << 7) >> 7;
  // Kept tiny so V8 inlines it into fillNormal's loop; the rare rest lives in normalSlow.
  if (Math.abs(hz) < kn[iz]!) return hz * wn[iz]!;
  return normalSlow(g, hz, iz);
}

function normalSlow(g: RandomGenerator, hz: number, iz: number): number {
  for (;;) {
    if (iz === 0) {
      // The tail beyond R, by Marsaglia's exponential rejection.
      let x: number;
      let y: number;
      do {
        x = -Math.log(((g.next() >>> 0) + 0.5) * TWO_POW_M32) / ZIG_R;
        y = -Math.log(((g.next() >>> 0) + 0.5) * TWO_POW_M32);
      } while (y + y < x * x);
      return hz > 0 ? ZIG_R + x : -ZIG_R - x;
    }
    const x = hz * wn[iz]!;
    const u = (g.next() >>> 0) * TWO_POW_M32;
    if (fn[iz]! + u * (fn[iz - 1]! - fn[iz]!) < Math.exp(-0.5 * x * x)) return x;
    const r = g.next();
    iz = r >>> 25;
    hz = (r << 7) >> 7;
    if (Math.abs(hz) < kn[iz]!) return hz * wn[iz]!;
  }
}

/** Hashes the seed into xoroshiro128+'s 128-bit state, so nearby seeds give unrelated streams. */
function seedState(seed: number | string): number[] {
  const words = seedWords(seed);
  const state = [0, 1, 2, 3].map((lane) => {
    let h = Math.imul(lane + 1, 0x9e3779b9);
    for (const w of words) h = fmix32(h ^ w);
    return fmix32(h ^ words.length) | 0;
  });
  // The all-zero state is a fixed point of the generator.
  if (!state.some((s) => s !== 0)) state[0] = 1;
  return state;
}

function seedWords(seed: number | string): number[] {
  if (typeof seed === 'string') {
    const bytes = new TextEncoder().encode(seed);
    const words = [2, bytes.length];
    for (let i = 0; i < bytes.length; i += 4) {
      words.push(
        (bytes[i]! |
          ((bytes[i + 1] ?? 0) << 8) |
          ((bytes[i + 2] ?? 0) << 16) |
          ((bytes[i + 3] ?? 0) << 24)) >>>
          0,
      );
    }
    return words;
  }
  if (!Number.isFinite(seed)) throw new RangeError(`random seed must be finite, got ${seed}`);
  if (Number.isSafeInteger(seed)) {
    const hi = Math.floor(seed / 2 ** 32);
    return [0, (seed - hi * 2 ** 32) >>> 0, hi >>> 0];
  }
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seed, true);
  return [1, view.getUint32(0, true), view.getUint32(4, true)];
}

/** MurmurHash3's 32-bit finaliser: a bijection with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
