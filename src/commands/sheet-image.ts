/**
 * Tiling previews into one contact sheet, each tile numbered with its exemplar id. The digits
 * are drawn as pixel blocks, not text: SVG text needs fonts, which a slim server may not have.
 */
import sharp from 'sharp';
import type { EncodedImage } from '../engine/index.ts';

/** Side of one tile in the sheet. */
export const TILE = 128;
const COLUMNS = 8;

/** 3×5 pixel digits, rows top to bottom, `1` = lit. */
const DIGITS = [
  '111101101101111',
  '010110010010111',
  '111001111100111',
  '111001111001111',
  '101101111001001',
  '111100111001111',
  '111100111101111',
  '111001001001001',
  '111101111101111',
  '111101111001111',
];
const PX = 3;

/** The grid for `count` tiles: up to 8 columns, filled left to right, top to bottom. */
export function sheetLayout(count: number): { columns: number; rows: number } {
  const columns = Math.max(1, Math.min(COLUMNS, count));
  return { columns, rows: Math.max(1, Math.ceil(count / columns)) };
}

/** One label: the number in white blocks on a dark box, as SVG elements at (x, y). */
function label(n: number, x: number, y: number): string {
  const digits = String(n);
  const width = digits.length * 4 * PX + PX;
  const parts = [
    `<rect x="${x}" y="${y}" width="${width}" height="${7 * PX}" fill="#000" fill-opacity="0.65"/>`,
  ];
  [...digits].forEach((d, i) => {
    const glyph = DIGITS[Number(d)]!;
    for (let p = 0; p < 15; p++) {
      if (glyph[p] !== '1') continue;
      const px = x + PX + i * 4 * PX + (p % 3) * PX;
      const py = y + PX + Math.floor(p / 3) * PX;
      parts.push(`<rect x="${px}" y="${py}" width="${PX}" height="${PX}" fill="#fff"/>`);
    }
  });
  return parts.join('');
}

/**
 * Tiles `previews` (any size, resized to {@link TILE}) in the {@link sheetLayout} grid, each
 * labelled with its id, into one JPEG.
 *
 * @example
 * const sheet = await tileSheet([{ id: 0, bytes: png0 }, { id: 1, bytes: png1 }]);
 */
export async function tileSheet(
  previews: readonly { id: number; bytes: Uint8Array }[],
): Promise<EncodedImage> {
  const { columns, rows } = sheetLayout(previews.length);
  const width = columns * TILE;
  const height = rows * TILE;
  const tiles = await Promise.all(
    previews.map(async ({ bytes }, i) => ({
      input: await sharp(bytes).resize(TILE, TILE, { fit: 'cover' }).toBuffer(),
      left: (i % columns) * TILE,
      top: Math.floor(i / columns) * TILE,
    })),
  );
  const labels = previews
    .map(({ id }, i) => label(id, (i % columns) * TILE + 2, Math.floor(i / columns) * TILE + 2))
    .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `${labels}</svg>`;
  const bytes = await sharp({
    create: { width, height, channels: 3, background: { r: 32, g: 32, b: 32 } },
  })
    .composite([...tiles, { input: Buffer.from(svg), left: 0, top: 0 }])
    .jpeg({ quality: 85 })
    .toBuffer();
  return { bytes: new Uint8Array(bytes), format: 'jpeg', width, height };
}
