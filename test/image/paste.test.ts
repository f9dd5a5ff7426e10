/** Paste-back and tiling: pure pixel work, checked on synthetic images. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RgbImage } from '../../src/engine/image/decode.ts';
import { composeTiles } from '../../src/engine/image/compose.ts';
import { pasteFaces } from '../../src/engine/image/paste.ts';
import { createRng } from '../../src/engine/random.ts';

function noise(width: number, height: number, seed: string): RgbImage {
  const rng = createRng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rng.uniform() * 256);
  return { data, width, height };
}

function solid(side: number, rgb: readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(side * side * 3);
  for (let i = 0; i < side * side; i++) data.set(rgb, i * 3);
  return { data, width: side, height: side };
}

const px = (img: RgbImage, x: number, y: number): number[] => [
  ...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
];

/** A square of side `side` centred on (cx, cy), turned by `angle`: NW, SW, SE, NE. */
function square(cx: number, cy: number, side: number, angle: number): number[][] {
  const h = side / 2;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [
    [-h, -h],
    [-h, h],
    [h, h],
    [h, -h],
  ].map(([u, v]) => [cx + u! * c - v! * s, cy + u! * s + v! * c]);
}

describe('pasteFaces', () => {
  const photo = noise(320, 200, 'photo');
  const quad = square(150, 100, 120, 0.3);

  it('changes the face region, keeps every other pixel, and keeps the photo size', async () => {
    const out = await pasteFaces(photo, [{ image: solid(64, [255, 0, 0]), quad }]);
    assert.equal(out.width, 320);
    assert.equal(out.height, 200);
    assert.deepEqual(px(out, 150, 103), [255, 0, 0], 'the middle of the face is the result');
    // Everything outside the quad's bounding box is the photo's own, byte for byte.
    const xs = quad.map((p) => p[0]!);
    const ys = quad.map((p) => p[1]!);
    let changedOutside = 0;
    let changedInside = 0;
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 320; x++) {
        const same = px(out, x, y).every((v, c) => v === px(photo, x, y)[c]);
        const inBox =
          x + 1 >= Math.min(...xs) &&
          x <= Math.max(...xs) &&
          y + 1 >= Math.min(...ys) &&
          y <= Math.max(...ys);
        if (!inBox && !same) changedOutside++;
        if (inBox && !same) changedInside++;
      }
    }
    assert.equal(changedOutside, 0);
    // The ellipse covers ~π·0.4·0.46 ≈ 58% of the square.
    assert.ok(changedInside > 0.45 * 120 * 120, `${changedInside} pixels changed`);
    assert.deepEqual(photo.data.slice(0, 6), noise(320, 200, 'photo').data.slice(0, 6));
  });

  it('leaves no seam: the blend ramps over many pixels', async () => {
    const grey = solid(200, [128, 128, 128]);
    const out = await pasteFaces(grey, [
      { image: solid(64, [255, 255, 255]), quad: square(100, 100, 160, 0) },
    ]);
    // Along the middle row, from the edge into the face, no step between neighbours exceeds a
    // few levels (a hard paste would jump 127 at once).
    let worst = 0;
    for (let x = 1; x < 200; x++) {
      worst = Math.max(worst, Math.abs(px(out, x, 100)[0]! - px(out, x - 1, 100)[0]!));
    }
    assert.ok(worst <= 12, `largest step ${worst}`);
    assert.equal(px(out, 5, 100)[0], 128);
    assert.equal(px(out, 100, 100)[0], 255);
  });

  it('samples the result through the quad: a turned quad shows the result turned', async () => {
    // Left half red, right half blue: with the quad turned 180° they swap sides.
    const half = solid(64, [255, 0, 0]);
    for (let y = 0; y < 64; y++)
      for (let x = 32; x < 64; x++) half.data.set([0, 0, 255], (y * 64 + x) * 3);
    const upright = await pasteFaces(solid(200, [0, 0, 0]), [
      { image: half, quad: square(100, 100, 160, 0) },
    ]);
    const turned = await pasteFaces(solid(200, [0, 0, 0]), [
      { image: half, quad: square(100, 100, 160, Math.PI) },
    ]);
    assert.deepEqual(px(upright, 80, 100), [255, 0, 0]);
    assert.deepEqual(px(upright, 120, 100), [0, 0, 255]);
    assert.deepEqual(px(turned, 80, 100), [0, 0, 255]);
    assert.deepEqual(px(turned, 120, 100), [255, 0, 0]);
  });

  it('caps the output side and scales the quads with the photo', async () => {
    const out = await pasteFaces(photo, [{ image: solid(64, [0, 255, 0]), quad }], {
      maxSide: 160,
    });
    assert.deepEqual([out.width, out.height], [160, 100]);
    assert.deepEqual(px(out, 75, 51), [0, 255, 0]);
  });

  it('pastes several faces, and a quad that leaves the photo is clipped', async () => {
    const out = await pasteFaces(photo, [
      { image: solid(32, [255, 0, 0]), quad: square(60, 60, 80, 0) },
      { image: solid(32, [0, 0, 255]), quad: square(300, 180, 120, 0.1) },
    ]);
    assert.deepEqual(px(out, 60, 62), [255, 0, 0]);
    assert.deepEqual(px(out, 305, 190), [0, 0, 255]);
  });
});

describe('composeTiles', () => {
  it('lays tiles out row by row', () => {
    const tiles = [1, 2, 3, 4].map((v) => solid(4, [v, v, v]));
    const grid = composeTiles(tiles, 2);
    assert.deepEqual([grid.width, grid.height], [8, 8]);
    assert.deepEqual(
      [px(grid, 0, 0), px(grid, 7, 0), px(grid, 0, 7), px(grid, 7, 7)],
      [
        [1, 1, 1],
        [2, 2, 2],
        [3, 3, 3],
        [4, 4, 4],
      ],
    );
    const strip = composeTiles(tiles, 6);
    assert.deepEqual([strip.width, strip.height], [16, 4]);
    assert.deepEqual(px(strip, 13, 2), [4, 4, 4]);
  });

  it('refuses tiles of different sizes', () => {
    assert.throws(() => composeTiles([solid(4, [0, 0, 0]), solid(5, [0, 0, 0])], 2), RangeError);
  });
});
