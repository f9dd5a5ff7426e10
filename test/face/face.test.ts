import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { NoFaceError, UserError } from '../../src/engine/errors.ts';
import {
  DEFAULT_LANDMARK_MODEL,
  findAndAlignFace,
  loadShapePredictor,
  type AlignedPhotoFace,
} from '../../src/engine/face/index.ts';
import { rotatedSquare, warpQuadBilinear, type Point } from '../../src/engine/face/warp.ts';
import type { RgbImage } from '../../src/engine/image/decode.ts';
import {
  CASES,
  fixtureCase,
  loadRgb,
  meanAbsDiff,
  quadErrorPercent,
  toPoints,
} from './fixtures.ts';

// Quads within 1.5% of their size (issue 14: the speed-ups keep today's accuracy; the engine
// issue's bar was 3%), crops within 8 grey levels. Only dlib's own landmarks get there (face-api's
// alone land 1.5–4% off, measured), so the model is required here: npm test's pretest installs
// it. Without it the product falls back, tested below.
const sp = await loadShapePredictor(DEFAULT_LANDMARK_MODEL);
const QUAD_BAR = 1.5;
const CROP_BAR = 8;
const NO_DLIB = `dlib's 68-point model is missing at ${DEFAULT_LANDMARK_MODEL} (apt-get install libdlib-data)`;
const opts = { timeout: 60_000 };

before(async () => {
  assert.ok(sp, NO_DLIB);
  // Load TensorFlow.js once before timing anything.
  await findAndAlignFace(await loadRgb('astronaut.png'));
});

describe('alignment matches the reference', () => {
  for (const c of CASES.filter((x) => x.faces > 0 || x.expected_quad_in_photo)) {
    test(c.photo, opts, async (t) => {
      const started = performance.now();
      const found = await findAndAlignFace(await loadRgb(c.photo));
      const ms = performance.now() - started;
      // Where dlib found none, our count is the one the photo has: one astronaut.
      assert.equal(found.faceCount, c.faces || 1);
      const { quad, qsize, kept } = referenceQuad(c.photo, found);
      const quadError = quadErrorPercent(found.quad, quad, qsize);
      let message = `${found.landmarker}: quad ${quadError.toFixed(2)}% of qsize, ${ms.toFixed(0)} ms`;
      if (c.aligned && kept) {
        const mae = meanAbsDiff(found.crop, (await loadRgb(c.aligned)).data);
        message += `, crop MAE ${mae.toFixed(2)}/255`;
        assert.ok(mae <= CROP_BAR, message);
      }
      t.diagnostic(message);
      assert.ok(quadError <= QUAD_BAR, message);
      assert.equal(found.crop.length, 256 * 256 * 3);
      assert.equal(found.landmarks.length, 68);
    });
  }
});

describe('faces the reference misses', () => {
  for (const degrees of [30, -30]) {
    test(`astronaut turned ${degrees}°`, opts, async (t) => {
      const c = fixtureCase('astronaut.png');
      const { image, toTurned } = turn(await loadRgb(c.photo), degrees);
      const found = await findAndAlignFace(image);
      const expected = c.quad_in_photo!.map((p) => toTurned([p[0]!, p[1]!]));
      const quadError = quadErrorPercent(
        found.quad,
        expected.map((p) => [...p]),
        c.qsize!,
      );
      t.diagnostic(`quad ${quadError.toFixed(2)}% of qsize`);
      assert.equal(found.faceCount, 1);
      assert.ok(quadError <= QUAD_BAR, `${quadError}%`);
    });
  }
});

describe('face policy', () => {
  for (const photo of ['no_face_coffee.png', 'no_face_cat.png']) {
    test(`${photo}: NoFaceError`, opts, async () => {
      await assert.rejects(findAndAlignFace(await loadRgb(photo)), NoFaceError);
    });
  }

  test('a face smaller than the minimum is refused', opts, async () => {
    await assert.rejects(
      findAndAlignFace(await loadRgb('astronaut_small.png'), { minFaceSize: 100 }),
      (e: unknown) => e instanceof UserError && e.code === 'face-too-small',
    );
  });

  test('face-api landmarks alone still align', opts, async () => {
    const found = await findAndAlignFace(await loadRgb('astronaut.png'), { landmarkModel: null });
    assert.equal(found.landmarker, 'face-api');
    const c = fixtureCase('astronaut.png');
    assert.ok(quadErrorPercent(found.quad, c.quad_in_photo!, c.qsize!) <= 5);
  });
});

describe('dlib shape predictor', () => {
  test('reproduces dlib given dlib’s box', () => {
    // The box dlib's HOG detector gives for the astronaut (dlib 19.24, 1 upsample).
    const box = { left: 179, top: 83, right: 266, bottom: 170 };
    return loadRgb('astronaut.png').then((photo) => {
      assert.deepEqual(
        sp!.predict(photo, box),
        toPoints(fixtureCase('astronaut.png').landmarks68!),
      );
    });
  });
});

/**
 * The reference quad to compare with: where dlib found several faces, the one nearest ours
 * (we keep the largest, the reference the last). `kept` when it is the face the reference
 * aligned, so its crop is comparable.
 */
function referenceQuad(
  photo: string,
  found: AlignedPhotoFace,
): { quad: number[][]; qsize: number; kept: boolean } {
  const c = fixtureCase(photo);
  if (c.expected_quad_in_photo) {
    return { quad: c.expected_quad_in_photo, qsize: c.expected_qsize!, kept: false };
  }
  const centre = (q: readonly (readonly number[])[]): Point => [
    (q[0]![0]! + q[2]![0]!) / 2,
    (q[0]![1]! + q[2]![1]!) / 2,
  ];
  const ours = centre(found.quad);
  const distance = (q: number[][]) => Math.hypot(centre(q)[0] - ours[0], centre(q)[1] - ours[1]);
  const quad = c.all_faces_quads!.reduce((a, b) => (distance(a) <= distance(b) ? a : b));
  const qsize = Math.hypot(quad[0]![0]! - quad[3]![0]!, quad[0]![1]! - quad[3]![1]!);
  return { quad, qsize, kept: JSON.stringify(quad) === JSON.stringify(c.quad_in_photo) };
}

/**
 * The photo turned by `degrees` (counter-clockwise on screen) on a canvas that holds all of
 * it, and the map from photo pixels (centres) to the turned canvas.
 */
function turn(
  photo: RgbImage,
  degrees: number,
): { image: RgbImage; toTurned: (p: Point) => Point } {
  const side = Math.ceil(Math.hypot(photo.width, photo.height));
  const angle = (degrees * Math.PI) / 180;
  const centre: Point = [photo.width / 2, photo.height / 2];
  const data = warpQuadBilinear(photo, rotatedSquare(centre, side, angle), side, side);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  return {
    image: { data, width: side, height: side },
    toTurned: ([x, y]) => {
      const u = x + 0.5 - centre[0];
      const v = y + 0.5 - centre[1];
      return [u * cos + v * sin + side / 2 - 0.5, -u * sin + v * cos + side / 2 - 0.5];
    },
  };
}
