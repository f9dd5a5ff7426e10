/**
 * The instant preview: the generator cut after its ToRGB at a quarter of the output side.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { tensorOf, type LazyTensor } from '../../src/engine/checkpoint/tensor.ts';
import { demoCheckpoints } from '../../src/engine/families/dualstylegan/demo-weights.ts';
import { demoEncoderName, demoPackName, writeDemoPacks } from '../../src/engine/pack/demo-packs.ts';
import { writeStylePack } from '../../src/engine/families/dualstylegan/style-pack.ts';
import { DEMO_LICENCE } from '../../src/engine/pack/manifest.ts';
import { storedNoise } from '../../src/engine/pack/noise.ts';
import { openPack } from '../../src/engine/pack/store.ts';
import { LoadedEncoder, LoadedStyle, type GenerateInput } from '../../src/engine/runtime/loaded.ts';
import { Model, type TensorData } from '../../src/engine/runtime/session.ts';
import { tempDir } from '../helpers/packs.ts';

const SIZE = 64;

/** Mean |a − b| over [-1, 1] values, in grey levels (0..255), as images would be saved. */
function greyMae(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  const clamp = (x: number): number => Math.min(1, Math.max(-1, x));
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(clamp(a[i]!) - clamp(b[i]!));
  return (sum / a.length) * 127.5;
}

/** [B=1,3,S,S] → [1,3,s,s] by averaging f×f blocks. */
function boxDown(image: TensorData, s: number): Float32Array {
  const S = image.dims[3]!;
  const f = S / s;
  const out = new Float32Array(3 * s * s);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        let sum = 0;
        for (let j = 0; j < f; j++)
          for (let i = 0; i < f; i++) sum += image.data[c * S * S + (y * f + j) * S + x * f + i]!;
        out[c * s * s + y * s + x] = sum / (f * f);
      }
    }
  }
  return out;
}

function input(style: LoadedStyle, content: number, exemplar: number): Promise<GenerateInput> {
  return style.map(style.exemplar(exemplar)).then((exstyle) => ({
    content: style.exemplar(content),
    exstyle,
    weights: new Array<number>(style.manifest.nLatent).fill(0.6),
    truncation: 0.7,
    contentIsW: false,
  }));
}

describe('preview graph', () => {
  const out = tempDir('preview');
  let encoder: LoadedEncoder;
  let style: LoadedStyle;
  let flat: LoadedStyle;

  before(async () => {
    await writeDemoPacks(out, SIZE);
    // The same generator with every ToRGB above the preview's resolution adding nothing: its
    // final image is the preview, upsampled.
    const demo = demoCheckpoints({ size: SIZE });
    const generator = new Map<string, LazyTensor>(demo.generator);
    const cutAt = Math.log2(SIZE / 4) - 3; // to_rgbs.k works at 2^(k+3)
    for (const [key, t] of demo.generator) {
      const m = /^generator\.to_rgbs\.(\d+)\.(conv\.weight|bias)$/.exec(key);
      if (m && Number(m[1]) > cutAt)
        generator.set(key, tensorOf(t.shape, new Float32Array(t.shape.reduce((a, b) => a * b, 1))));
    }
    await writeStylePack(
      out,
      'flat',
      demoEncoderName(SIZE),
      {
        generator,
        generatorFile: 'test:flat/generator.pt',
        codes: demo.exstyleCodes,
        codesFile: 'test:flat/exstyle_code.npy',
        codeTable: 'exstyle_code.npy',
      },
      { sources: [], licence: DEMO_LICENCE, demo: true },
    );
    encoder = await LoadedEncoder.load(openPack(out, demoEncoderName(SIZE)), {});
    style = await LoadedStyle.load(openPack(out, demoPackName(SIZE)), encoder, {});
    flat = await LoadedStyle.load(openPack(out, 'flat'), encoder, {});
  });

  it('is written into the pack at import, at a quarter of the output side', () => {
    const pack = openPack(out, demoPackName(SIZE));
    assert.equal(pack.manifest.kind === 'style' && pack.manifest.previewSize, SIZE / 4);
    for (const f of ['generator-head.onnx', 'generator-tail.onnx'])
      assert.ok(existsSync(join(pack.dir, f)), f);
    // The halves read the generator's weights file; they bring none of their own.
    assert.ok(!existsSync(join(pack.dir, 'generator-head.onnx.data')));
    assert.equal(style.previewSize, SIZE / 4);
  });

  it('comes before the result, at the preview size, and costs the result nothing', async () => {
    const item = await input(style, 0, 1);
    const events: string[] = [];
    let preview: TensorData | undefined;
    const image = await style.generate([item], undefined, (p) => {
      events.push('preview');
      preview = p;
    });
    events.push('result');
    assert.deepEqual(events, ['preview', 'result']);
    assert.deepEqual(preview!.dims, [1, 3, SIZE / 4, SIZE / 4]);
    assert.deepEqual(image.dims, [1, 3, SIZE, SIZE]);

    // Head then tail compute exactly what the whole generator graph does.
    const pack = openPack(out, demoPackName(SIZE));
    const whole = await Model.load(join(pack.dir, 'generator.onnx'));
    const m = style.manifest;
    const n = m.nLatent;
    const d = m.styleDim;
    const { image: reference } = await whole.run({
      content: { dims: [1, n, d], data: item.content },
      exstyle: { dims: [1, n, d], data: item.exstyle },
      weights: { dims: [1, n], data: Float32Array.from(item.weights) },
      truncation: { dims: [1], data: Float32Array.from([item.truncation]) },
      content_is_w: { dims: [1], data: Float32Array.of(0) },
      ...storedNoise(pack.dir, m.noiseSizes),
    });
    await whole.dispose();
    assert.deepEqual(image.data, reference!.data);

    // preview() alone gives the same picture.
    const alone = await style.preview([item]);
    assert.deepEqual(alone.data, preview!.data);
  });

  it('is the final image, downscaled, where the layers above it add nothing', async () => {
    const s = SIZE / 4;
    const item = await input(flat, 2, 3);
    let preview: TensorData | undefined;
    const image = await flat.generate([item], undefined, (p) => (preview = p));
    const same = greyMae(preview!.data, boxDown(image, s));
    // Another face's final, as a yardstick of "not the same picture".
    const other = await flat.generate([await input(flat, 5, 3)]);
    const different = greyMae(preview!.data, boxDown(other, s));
    // Not 0: the final went through two FIR upsamplings (a blur) before the box downscale.
    assert.ok(same < 8, `preview vs its downscaled final: ${same.toFixed(2)} grey levels`);
    assert.ok(different > 4 * same, `vs another face: ${different.toFixed(2)}`);
  });
});
