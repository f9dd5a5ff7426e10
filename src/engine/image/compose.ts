/** Several results as one picture: a variation grid (2×2) or a fusion strip (one row). */
import type { RgbImage } from './decode.ts';

/**
 * Tiles of one size laid out row by row, `columns` to a row, with no gap (a chat shows the
 * picture small; a gap would waste the pixels). A short last row leaves black.
 *
 * @example
 * const grid = composeTiles([a, b, c, d], 2); // 2×2
 */
export function composeTiles(tiles: readonly RgbImage[], columns: number): RgbImage {
  const first = tiles[0];
  if (!first) throw new RangeError('no tiles to compose');
  const { width: w, height: h } = first;
  if (tiles.some((t) => t.width !== w || t.height !== h)) {
    throw new RangeError('tiles must all have the same size');
  }
  const cols = Math.max(1, Math.min(columns, tiles.length));
  const rows = Math.ceil(tiles.length / cols);
  const width = cols * w;
  const data = new Uint8Array(width * rows * h * 3);
  tiles.forEach((tile, i) => {
    const left = (i % cols) * w;
    const top = Math.floor(i / cols) * h;
    for (let y = 0; y < h; y++) {
      data.set(tile.data.subarray(y * w * 3, (y + 1) * w * 3), ((top + y) * width + left) * 3);
    }
  });
  return { data, width, height: rows * h };
}
