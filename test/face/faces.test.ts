/** Every face of a group photo: found, each aligned like the reference aligns it. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NoFaceError } from '../../src/engine/errors.ts';
import { findAndAlignFace, findAndAlignFaces } from '../../src/engine/face/index.ts';
import { fixtureCase, loadRgb, quadErrorPercent } from './fixtures.ts';

const opts = { timeout: 120_000 };

describe('findAndAlignFaces', () => {
  test('aligns both faces of the group photo like the reference', opts, async () => {
    const c = fixtureCase('two_faces.png');
    const photo = await loadRgb(c.photo);
    const { faces, skipped } = await findAndAlignFaces(photo);
    assert.equal(skipped.length, 0);
    assert.equal(faces.length, 2);
    for (const reference of c.all_faces_quads!) {
      // Each of the reference's faces is one of ours, within the alignment bar (3%).
      const side = Math.hypot(
        reference[3]![0]! - reference[0]![0]!,
        reference[3]![1]! - reference[0]![1]!,
      );
      const best = Math.min(...faces.map((f) => quadErrorPercent(f.quad, reference, side)));
      assert.ok(best < 3, `closest quad is ${best.toFixed(2)}% off`);
    }
    assert.ok(faces.every((f) => f.faceCount === 2 && f.crop.length === 256 * 256 * 3));
    // The first face is the one findAndAlignFace picks: the same code serves both.
    const one = await findAndAlignFace(photo);
    assert.deepEqual(faces[0]!.quad, one.quad);
  });

  test('stops at maxFaces, largest first', opts, async () => {
    const { faces } = await findAndAlignFaces(await loadRgb('two_faces.png'), { maxFaces: 1 });
    assert.equal(faces.length, 1);
    assert.equal(faces[0]!.faceCount, 2);
  });

  test('a face too small to stylize is skipped, not fatal', opts, async () => {
    const photo = await loadRgb('two_faces.png');
    const { faces: all } = await findAndAlignFaces(photo);
    const sides = all.map((f) => Math.max(f.box.width, f.box.height));
    const between = (sides[0]! + sides[1]!) / 2;
    const { faces, skipped } = await findAndAlignFaces(photo, { minFaceSize: between });
    assert.equal(faces.length, 1);
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]!.error.code, 'face-too-small');
  });

  test('a photo without a face still fails as for one face', opts, async () => {
    await assert.rejects(findAndAlignFaces(await loadRgb('no_face_cat.png')), NoFaceError);
  });
});
