/**
 * Issue 13's engine features on the 64 px demo pack: paste-back into the whole photo, every face
 * of a group photo, style fusion, style references, the variation grid, presets and the
 * reconstruction.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Engine, type StylizeResult } from '../../src/engine/engine.ts';
import { UserError } from '../../src/engine/errors.ts';
import type { StyleChoice, StylizeRequest } from '../../src/engine/request.ts';
import { parseStyleRef } from '../../src/engine/style-ref.ts';
import { installDemoPacks } from '../helpers/demo-packs.ts';
import { FIXTURES, tempDir } from '../helpers/packs.ts';

const PACK = 'demo-64';
const photo = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(join(FIXTURES, 'alignment', name)));
const astronaut = photo('astronaut.png');
const twoFaces = photo('two_faces.png');

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

async function raw(bytes: Uint8Array): Promise<Raw> {
  const { data, info } = await sharp(bytes)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean absolute difference inside and outside the faces' quads (their bounding boxes). */
function regionDiff(a: Raw, b: Raw, quads: number[][][]): { inside: number; outside: number } {
  const boxes = quads.map((q) => {
    const xs = q.map((p) => p[0]!);
    const ys = q.map((p) => p[1]!);
    return [Math.min(...xs) - 1, Math.min(...ys) - 1, Math.max(...xs) + 1, Math.max(...ys) + 1];
  });
  let [inSum, inN, outSum, outN] = [0, 0, 0, 0];
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const i = (y * a.width + x) * 3;
      const d =
        Math.abs(a.data[i]! - b.data[i]!) +
        Math.abs(a.data[i + 1]! - b.data[i + 1]!) +
        Math.abs(a.data[i + 2]! - b.data[i + 2]!);
      const inside = boxes.some(([x0, y0, x1, y1]) => x >= x0! && x <= x1! && y >= y0! && y <= y1!);
      if (inside) [inSum, inN] = [inSum + d / 3, inN + 1];
      else [outSum, outN] = [outSum + d / 3, outN + 1];
    }
  }
  return { inside: inSum / inN, outside: outN ? outSum / outN : 0 };
}

describe('whole photos, every face, fusion, references, grid', { timeout: 300_000 }, () => {
  const models = tempDir('whole');
  let engine: Engine;
  const exemplar = (id: number): StyleChoice => ({ kind: 'exemplar', pack: PACK, exemplar: id });
  const request = (extra: Partial<StylizeRequest> = {}): StylizeRequest => ({
    userId: 'alice',
    face: { kind: 'photo', bytes: astronaut },
    style: exemplar(1),
    format: 'png',
    ...extra,
  });

  before(async () => {
    await installDemoPacks(models, 64);
    engine = await Engine.create({ modelsDir: models, cacheUrl: 'memory' });
    await engine.preload(PACK);
  });
  after(() => engine.close());

  it('pastes the result back: the face changes, the rest stays, the size is the photo’s', async () => {
    const original = await raw(astronaut);
    for (const format of ['png', 'jpeg'] as const) {
      const result = await engine.stylize(request({ output: 'photo', format }));
      const out = await raw(result.image.bytes);
      assert.deepEqual([out.width, out.height], [original.width, original.height]);
      assert.deepEqual([result.image.width, result.image.height], [512, 512]);
      assert.equal(result.faces?.length, 1);
      const diff = regionDiff(out, original, [result.faces![0]!.quad]);
      // PNG is exact outside the face; JPEG only adds its own noise (a level or two).
      assert.ok(
        diff.outside < (format === 'png' ? 1e-9 : 2.5),
        `${format}: outside ${diff.outside}`,
      );
      assert.ok(diff.inside > 10, `${format}: inside ${diff.inside}`);
      assert.ok(result.timings.paste! > 0);
    }
    await assert.rejects(
      engine.stylize(request({ output: 'photo', face: { kind: 'random', seed: '1' } })),
      (e: unknown) => e instanceof UserError && e.code === 'bad-option',
    );
  });

  it('stylizes both faces of the group photo in one generator call', async () => {
    const result = await engine.stylize(
      request({ face: { kind: 'photo', bytes: twoFaces }, faces: 'all' }),
    );
    assert.equal(result.faces?.length, 2);
    assert.equal(result.skippedFaces, 0);
    assert.equal(result.batchSize, 2, 'both faces in one batch');
    const original = await raw(twoFaces);
    const out = await raw(result.image.bytes);
    assert.deepEqual([out.width, out.height], [original.width, original.height]);
    for (const face of result.faces!) {
      assert.ok(regionDiff(out, original, [face.quad]).inside > 5, 'each face changed');
    }
    assert.ok(
      regionDiff(
        out,
        original,
        result.faces!.map((f) => f.quad),
      ).outside < 1e-9,
    );
    const again = await engine.stylize(
      request({ face: { kind: 'photo', bytes: twoFaces }, faces: 'all' }),
    );
    assert.equal(again.cacheHit, true);
    assert.deepEqual(again.image.bytes, result.image.bytes);
  });

  it('fuses two styles: ratio 0 and 1 are the two styles exactly, between is neither', async () => {
    const a = exemplar(1);
    const b: StyleChoice = { kind: 'sampled', pack: PACK, structureSeed: 's', colorSeed: 'c' };
    const [onlyA, onlyB] = [
      await engine.stylize(request({ style: a })),
      await engine.stylize(request({ style: b })),
    ];
    const blend = (ratio: number) =>
      engine.stylize(
        request({
          style: {
            kind: 'blend',
            pack: PACK,
            a: { kind: 'exemplar', exemplar: 1 },
            b: { kind: 'sampled', structureSeed: 's', colorSeed: 'c' },
            ratio,
          },
        }),
      );
    assert.deepEqual((await blend(0)).image.bytes, onlyA.image.bytes);
    assert.deepEqual((await blend(1)).image.bytes, onlyB.image.bytes);
    const half = await blend(0.5);
    assert.notDeepEqual(half.image.bytes, onlyA.image.bytes);
    assert.notDeepEqual(half.image.bytes, onlyB.image.bytes);
    assert.equal(half.style.kind, 'blend');
    assert.equal(half.style.reference, `${PACK}:1+random:s:c@0.5`);
  });

  it('a reference printed by a result reproduces the same image on the same photo', async () => {
    const styles: StyleChoice[] = [
      { kind: 'exemplar', pack: PACK, exemplar: 'demo-03' },
      { kind: 'sampled', pack: PACK, structureSeed: 'x', colorSeed: 'y' },
      {
        kind: 'blend',
        pack: PACK,
        a: { kind: 'exemplar', exemplar: 2 },
        b: { kind: 'exemplar', exemplar: 5 },
        ratio: 0.3,
      },
      { kind: 'image', pack: PACK, image: photo('i5R8hbZFDdc.jpg') },
    ];
    for (const style of styles) {
      const first = await engine.stylize(request({ style }));
      const ref = parseStyleRef(first.style.reference);
      assert.equal(ref.kind, 'style');
      const again = await engine.stylize(request({ style: ref.style }));
      assert.deepEqual(again.image.bytes, first.image.bytes, first.style.reference);
      assert.equal(again.style.reference, first.style.reference);
    }
  });

  it('renders four sampled styles as one 2×2 grid in one generator call', async () => {
    const sampled = (n: number): StyleChoice => ({
      kind: 'sampled',
      pack: PACK,
      structureSeed: `g${n}`,
      colorSeed: `h${n}`,
    });
    const result = await engine.stylize(
      request({ style: sampled(0), variants: [sampled(1), sampled(2), sampled(3)], columns: 2 }),
    );
    assert.equal(result.batchSize, 4, 'one generator call of four');
    assert.deepEqual([result.image.width, result.image.height], [128, 128]);
    assert.equal(new Set(result.tiles!.map((t) => t.reference)).size, 4);
    const grid = await raw(result.image.bytes);
    const tile = (i: number) => {
      const [left, top] = [(i % 2) * 64, Math.floor(i / 2) * 64];
      const rows = Array.from({ length: 64 }, (_, y) =>
        grid.data.subarray(((top + y) * 128 + left) * 3, ((top + y) * 128 + left + 64) * 3),
      );
      return Buffer.concat(rows);
    };
    const tiles = [0, 1, 2, 3].map(tile);
    for (let i = 0; i < 4; i++)
      for (let j = i + 1; j < 4; j++) assert.notDeepEqual(tiles[i], tiles[j]);
    // Each tile is that style's own image (tile 2 = the third style alone).
    const alone = await raw((await engine.stylize(request({ style: sampled(2) }))).image.bytes);
    assert.deepEqual(tiles[2], alone.data);
  });

  it('applies a preset, and the reconstruction ignores the style', async () => {
    const colourOnly = await engine.stylize(request({ preset: 'colour-only' }));
    assert.deepEqual(colourOnly.weights, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    const rec = (id: number): Promise<StylizeResult> =>
      engine.stylize(request({ style: exemplar(id), reconstruct: true }));
    const [r1, r2] = [await rec(1), await rec(6)];
    assert.deepEqual(r1.weights, new Array(10).fill(0));
    assert.equal(r1.truncation, 1);
    assert.deepEqual(r1.image.bytes, r2.image.bytes, 'no extrinsic path: any style, one face');
    assert.notDeepEqual(r1.image.bytes, colourOnly.image.bytes);
  });
});
