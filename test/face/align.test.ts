import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alignFace, ffhqQuad } from '../../src/engine/face/align.ts';
import { warpQuadBilinear } from '../../src/engine/face/warp.ts';
import { CASES, loadRgb, meanAbsDiff, quadErrorPercent, toPoints } from './fixtures.ts';

// Given the reference's own landmarks, alignment must reproduce the reference's output: the
// quad to rounding, the crop to the last grey level except where the padding blur differs.
describe('FFHQ alignment from the reference landmarks', () => {
  for (const c of CASES.filter((x) => x.landmarks68 && x.aligned)) {
    test(c.photo, async () => {
      const landmarks = toPoints(c.landmarks68!);
      const { quad, qsize } = ffhqQuad(landmarks);
      assert.ok(Math.abs(qsize - c.qsize!) < 1e-9);
      assert.ok(quadErrorPercent(quad, c.quad_in_photo!, qsize) < 1e-9);

      const photo = await loadRgb(c.photo);
      const aligned = await alignFace(photo, landmarks);
      assert.deepEqual(aligned.quad, quad);
      const reference = (await loadRgb(c.aligned!)).data;
      const mae = meanAbsDiff(aligned.crop, reference);
      // Only the padded photo (yRpe…) may differ, by one level where the blur is rounded.
      assert.ok(mae < 0.02, `crop differs by ${mae.toFixed(4)} levels`);
      assert.ok(aligned.crop.every((v, i) => Math.abs(v - reference[i]!) <= 1));
    });
  }
});

describe('ffhqQuad', () => {
  test('needs 68 landmarks', () => {
    assert.throws(() => ffhqQuad([[0, 0]]), RangeError);
  });
});

describe('warpQuadBilinear', () => {
  test('an axis-aligned quad of the whole image is the identity', () => {
    const data = Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 37) % 256);
    const out = warpQuadBilinear(
      { data, width: 5, height: 4 },
      [
        [0, 0],
        [0, 4],
        [5, 4],
        [5, 0],
      ],
      5,
      4,
    );
    assert.deepEqual(out, data);
  });

  test('samples outside the image are black', () => {
    const data = new Uint8Array(4 * 4 * 3).fill(200);
    const out = warpQuadBilinear(
      { data, width: 4, height: 4 },
      [
        [4, 0],
        [4, 4],
        [8, 4],
        [8, 0],
      ],
      4,
      4,
    );
    assert.ok(out.every((v) => v === 0));
  });
});
