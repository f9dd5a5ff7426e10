/**
 * Style fusion, as the official notebook's "Style fusion" section: two z+ style codes mixed
 * linearly before the style's mapping network.
 */

/**
 * `(1 − ratio)·a + ratio·b`, row by row. Ratio 0 returns a copy of `a` and 1 a copy of `b`,
 * bit for bit (no arithmetic), so a fusion's endpoints are the two styles themselves.
 */
export function blendCodes(a: Float32Array, b: Float32Array, ratio: number): Float32Array {
  if (a.length !== b.length)
    throw new RangeError(`codes differ in length: ${a.length}, ${b.length}`);
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`ratio ${ratio} is outside 0..1`);
  if (ratio === 0) return a.slice();
  if (ratio === 1) return b.slice();
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + (b[i]! - a[i]!) * ratio;
  return out;
}

/** `steps` ratios from 0 to 1 inclusive, evenly spaced: the frames of a fusion strip. */
export function fusionRatios(steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 2)
    throw new RangeError(`a strip needs 2+ steps, got ${steps}`);
  return Array.from({ length: steps }, (_, i) => (i === steps - 1 ? 1 : i / (steps - 1)));
}
